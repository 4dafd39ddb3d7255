/** Who is asking, and which sessions they may see: shared by the shapes and the resolvers. */
import { requireViewer } from '../auth/authenticator.js';
import { SyncError } from '../errors.js';
import type { GatewayContext } from './context.js';
import { isAdmin, type Viewer } from '../sync/model.js';

export const viewerOf = (ctx: GatewayContext): Viewer => requireViewer(ctx.viewer);

/** A session the viewer may see, through the request's loader; else NOT_FOUND. */
export async function visibleSession(ctx: GatewayContext, id: string) {
  const viewer = viewerOf(ctx);
  const session = await ctx.loaders.sessions.load(id);
  if (!session || (session.userId !== viewer.id && !isAdmin(viewer))) {
    throw new SyncError('NOT_FOUND', `id: no session "${id}" is visible to you`, 'id');
  }
  return session;
}

/** Like visibleSession, but null instead of NOT_FOUND (for `session` and `node`). */
export async function findVisibleSession(ctx: GatewayContext, id: string) {
  try {
    return await visibleSession(ctx, id);
  } catch (error) {
    if (error instanceof SyncError && error.code === 'NOT_FOUND') return null;
    throw error;
  }
}

/** A subscription's context lives as long as it does: each event reads the session afresh. */
export function currentSession(ctx: GatewayContext, id: string) {
  ctx.loaders.sessions.clear(id);
  return visibleSession(ctx, id);
}
