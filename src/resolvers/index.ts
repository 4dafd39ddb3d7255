/** Every operation: the query, mutation and subscription fields, one file per area. */
import './session.js';
import './upload.js';
import './download.js';
import './document.js';
import './session-control.js';
import './session-events.js';
import './progress.js';
