/** The executable schema: the shapes of src/schema with the operations of src/resolvers. */
import { builder } from '../schema/builder.js';
import '../schema/index.js';
import '../resolvers/index.js';

export const schema = builder.toSchema({ sortSchema: false });
