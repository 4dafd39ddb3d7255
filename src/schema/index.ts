/** Assembles the schema from one file per type area. */
import { builder } from './builder.js';
import './scalars.js';
import './session.js';
import './upload.js';
import './download.js';
import './document.js';
import './enums.js';
import './session-control.js';
import './session-events.js';
import './progress.js';

export const schema = builder.toSchema({ sortSchema: false });
