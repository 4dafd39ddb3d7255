/** Resolver helpers: the authenticated viewer of a request. */
import { requireViewer } from '../auth/authenticator.js';
import type { GatewayContext } from '../server/context.js';
import type { Viewer } from '../sync/model.js';

export const viewerOf = (ctx: GatewayContext): Viewer => requireViewer(ctx.viewer);
