/** Every GraphQL shape: scalars, enums, inputs and object types, one file per area. */
import './scalars.js';
import './session.js';
import './upload.js';
import './download.js';
import './enums.js';
import './session-control.js';
import './session-events.js';
import './progress.js';
