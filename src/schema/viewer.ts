/** Resolver helpers: the authenticated viewer of a request, and the socket it came on. */
import { requireViewer } from '../auth/authenticator.js';
import type { GatewayContext } from '../server/context.js';
import type { Viewer } from '../sync/model.js';

export const viewerOf = (ctx: GatewayContext): Viewer => requireViewer(ctx.viewer);

/** Binds the operation's socket to the session, unless the socket closed meanwhile. */
export function bindSocket(ctx: GatewayContext, sessionId: string): void {
  if (ctx.socketId && !ctx.signal?.aborted) ctx.sessions.connections.bind(ctx.socketId, sessionId);
}
