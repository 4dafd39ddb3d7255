/** Resolver helpers: the authenticated viewer of a request, and the socket it came on. */
import { requireViewer } from '../auth/authenticator.js';
import type { GatewayContext } from '../server/context.js';
import type { SessionRecord, Viewer } from '../sync/model.js';

export const viewerOf = (ctx: GatewayContext): Viewer => requireViewer(ctx.viewer);

/**
 * Binds the operation's socket to the session: only the session's own user's socket (an
 * admin watching is not the client), and not if the socket closed meanwhile.
 */
export function bindSocket(ctx: GatewayContext, session: SessionRecord): void {
  if (!ctx.socketId || ctx.signal?.aborted || ctx.viewer?.id !== session.userId) return;
  ctx.sessions.connections.bind(ctx.socketId, session.id);
}
