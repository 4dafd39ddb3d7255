/** SyncSession, User and SyncQuery, with the root fields that find and manage sessions. */
import { SyncError } from '../errors.js';
import { isAdmin, type SessionRecord, type SyncQuery } from '../sync/model.js';
import { builder } from './builder.js';
import { viewerOf } from './viewer.js';

export const UserRef = builder.objectRef<{ id: string }>('User').implement({
  fields: (t) => ({ id: t.exposeID('id') }),
});

export const SyncQueryRef = builder.objectRef<SyncQuery>('SyncQuery').implement({
  fields: (t) => ({
    collection: t.exposeString('collection'),
    filter: t.field({ type: 'JSON', nullable: true, resolve: (q) => q.filter }),
  }),
});

export const SyncQueryInput = builder.inputType('SyncQueryInput', {
  fields: (t) => ({
    collection: t.string({ required: true }),
    filter: t.field({
      type: 'JSON',
      description: 'A MongoDB filter; omit for the whole collection.',
    }),
  }),
});

export const SyncSessionRef = builder.node(builder.objectRef<SessionRecord>('SyncSession'), {
  id: { resolve: (s) => s.id },
  loadMany: (ids, ctx) => ids.map((id) => findVisibleSession(ctx, id)),
  isTypeOf: (value) => typeof value === 'object' && value !== null && 'clientId' in value,
  fields: (t) => ({
    clientId: t.exposeID('clientId'),
    user: t.field({ type: UserRef, resolve: (s) => ({ id: s.userId }) }),
    lastIntegratedClientVersion: t.exposeInt('lastIntegratedClientVersion', {
      description: 'Upload acknowledged up to this client version.',
    }),
    lastDownloadedServerVersion: t.exposeInt('lastDownloadedServerVersion', {
      description: 'The client has acknowledged the download up to this server version.',
    }),
    queries: t.field({ type: [SyncQueryRef], resolve: (s) => s.queries }),
    closed: t.exposeBoolean('closed'),
    createdAt: t.field({ type: 'DateTime', resolve: (s) => s.createdAt }),
  }),
});

/** A session the viewer may see, through the request's loader; else NOT_FOUND. */
export async function visibleSession(ctx: Parameters<typeof viewerOf>[0], id: string) {
  const viewer = viewerOf(ctx);
  const session = await ctx.loaders.sessions.load(id);
  if (!session || (session.userId !== viewer.id && !isAdmin(viewer))) {
    throw new SyncError('NOT_FOUND', `id: no session "${id}" is visible to you`, 'id');
  }
  return session;
}

/** Like visibleSession, but null instead of NOT_FOUND (for `session` and `node`). */
async function findVisibleSession(ctx: Parameters<typeof viewerOf>[0], id: string) {
  try {
    return await visibleSession(ctx, id);
  } catch (error) {
    if (error instanceof SyncError && error.code === 'NOT_FOUND') return null;
    throw error;
  }
}

builder.queryFields((t) => ({
  session: t.field({
    type: SyncSessionRef,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) => findVisibleSession(ctx, id),
  }),
  sessions: t.connection({
    type: SyncSessionRef,
    description:
      'Your sessions (every session, for an admin), ordered by id; page with first and after.',
    resolve: async (_root, args, ctx) => {
      const viewer = viewerOf(ctx);
      if (args.last != null || args.before != null) {
        throw new SyncError(
          'BAD_USER_INPUT',
          'last/before: page forward with first and after',
          'last',
        );
      }
      const limit = Math.min(args.first ?? 50, 500);
      const page = await ctx.core.store.listSessions({
        userId: isAdmin(viewer) ? undefined : viewer.id,
        after: args.after ?? undefined,
        limit,
      });
      page.sessions.forEach((s) => ctx.loaders.sessions.prime(s.id, s));
      const edges = page.sessions.map((node) => ({ cursor: node.id, node }));
      return {
        edges,
        pageInfo: {
          hasNextPage: page.hasNextPage,
          hasPreviousPage: args.after != null,
          startCursor: edges[0]?.cursor ?? null,
          endCursor: edges[edges.length - 1]?.cursor ?? null,
        },
      };
    },
  }),
}));

const OpenSessionInput = builder.inputType('OpenSessionInput', {
  fields: (t) => ({
    clientId: t.id({ required: true }),
    queries: t.field({ type: [SyncQueryInput], required: true }),
  }),
});

builder.mutationFields((t) => ({
  openSession: t.field({
    type: SyncSessionRef,
    description: "Opens the client's session (or re-opens it, applying the queries given).",
    args: { input: t.arg({ type: OpenSessionInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      ctx.core.openSession(viewerOf(ctx), input.clientId, input.queries),
  }),
  closeSession: t.boolean({
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) => ctx.core.closeSession(viewerOf(ctx), id),
  }),
  updateQueries: t.field({
    type: SyncSessionRef,
    args: {
      sessionId: t.arg.id({ required: true }),
      queries: t.arg({ type: [SyncQueryInput], required: true }),
    },
    resolve: (_root, args, ctx) =>
      ctx.core.updateQueries(viewerOf(ctx), args.sessionId, args.queries),
  }),
  acknowledgeDownload: t.field({
    type: SyncSessionRef,
    args: { sessionId: t.arg.id({ required: true }), serverVersion: t.arg.int({ required: true }) },
    resolve: (_root, args, ctx) =>
      ctx.core.acknowledgeDownload(viewerOf(ctx), args.sessionId, args.serverVersion),
  }),
}));
