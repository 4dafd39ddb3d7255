/** The graphql-ws socket an operation came on. */
import type { GatewayContext } from '../schema/context.js';
import type { SessionRecord } from '../sync/model.js';

/**
 * Binds the operation's socket to the session: only the session's own user's socket (an
 * admin watching is not the client), and not if the socket closed meanwhile.
 */
export function bindSocket(ctx: GatewayContext, session: SessionRecord): void {
  if (!ctx.socketId || ctx.signal?.aborted || ctx.viewer?.id !== session.userId) return;
  ctx.sessions.connections.bind(ctx.socketId, session.id);
}
