/** SyncSession, User and SyncQuery, with the root fields that find and manage sessions. */
import { SyncError } from '../errors.js';
import { isAdmin, type SessionRecord, type SyncQuery } from '../sync/model.js';
import { sessionState } from '../session/pause.js';
import { builder } from './builder.js';
import { ConnectionStateEnum, ProgressDirectionEnum, SessionStateEnum } from './enums.js';
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
    state: t.field({
      type: SessionStateEnum,
      resolve: (s, _args, ctx) => sessionState(s.pause, ctx.sessions.clock.now()),
    }),
    connectionState: t.field({
      type: ConnectionStateEnum,
      resolve: (s, _args, ctx) => ctx.sessions.connections.stateOf(s.id),
    }),
    pausedDirections: t.field({
      type: [ProgressDirectionEnum],
      description: 'The directions a pause in force stops; empty when ACTIVE.',
      resolve: (s, _args, ctx) => ctx.sessions.pauseOf(s)?.directions ?? [],
    }),
    pausedUntil: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When the pause in force ends by itself; null when it waits for resumeSession.',
      resolve: (s, _args, ctx) => ctx.sessions.pauseOf(s)?.until ?? null,
    }),
    latestClientVersion: t.exposeInt('latestClientVersion', {
      description: 'The newest changeset the client reported making, sent or not.',
    }),
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

function connectionOf(
  page: { sessions: SessionRecord[]; hasNextPage: boolean },
  hasPrevious: boolean,
) {
  const edges = page.sessions.map((node) => ({ cursor: node.id, node }));
  return {
    edges,
    pageInfo: {
      hasNextPage: page.hasNextPage,
      hasPreviousPage: hasPrevious,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges[edges.length - 1]?.cursor ?? null,
    },
  };
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
  sessions: t.connection(
    {
      type: SyncSessionRef,
      description:
        'Your sessions (every session, for an admin), ordered by id; page forward with first and after.',
      args: {
        state: t.arg({ type: SessionStateEnum }),
        connectionState: t.arg({ type: ConnectionStateEnum }),
      },
      resolve: async (_root, args, ctx) => {
        if (args.last != null || args.before != null) {
          throw new SyncError(
            'BAD_USER_INPUT',
            'last/before: page forward with first and after',
            'last',
          );
        }
        if (args.first != null && (args.first < 0 || args.first > 500)) {
          throw new SyncError('BAD_USER_INPUT', 'first: must be from 0 to 500', 'first');
        }
        const page = await ctx.sessions.list(viewerOf(ctx), {
          first: args.first ?? 50,
          after: args.after ?? undefined,
          state: args.state ?? undefined,
          connectionState: args.connectionState ?? undefined,
        });
        page.sessions.forEach((s) => ctx.loaders.sessions.prime(s.id, s));
        return connectionOf(page, args.after != null);
      },
    },
    { name: 'SyncSessionConnection' },
    { name: 'SyncSessionEdge' },
  ),
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
    resolve: (_root, { id }, ctx) => ctx.sessions.close(viewerOf(ctx), id),
  }),
  updateQueries: t.field({
    type: SyncSessionRef,
    args: {
      sessionId: t.arg.id({ required: true }),
      queries: t.arg({ type: [SyncQueryInput], required: true }),
    },
    resolve: (_root, args, ctx) =>
      ctx.sessions.updateQueries(viewerOf(ctx), args.sessionId, args.queries),
  }),
  acknowledgeDownload: t.field({
    type: SyncSessionRef,
    args: { sessionId: t.arg.id({ required: true }), serverVersion: t.arg.int({ required: true }) },
    resolve: (_root, args, ctx) =>
      ctx.core.acknowledgeDownload(viewerOf(ctx), args.sessionId, args.serverVersion),
  }),
}));
