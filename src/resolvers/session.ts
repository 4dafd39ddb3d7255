/** Finding, opening, re-scoping and closing sessions: `session`, `sessions`, `openSession`, ... */
import { SyncError } from '../errors.js';
import { builder } from '../schema/builder.js';
import { findVisibleSession, viewerOf } from '../schema/access.js';
import { ConnectionStateEnum, SessionStateEnum } from '../schema/enums.js';
import { OpenSessionInput, SyncQueryInput, SyncSessionRef } from '../schema/session.js';
import type { SessionRecord } from '../sync/model.js';

/** The Relay connection of one page of sessions. */
function connectionOf(page: { sessions: SessionRecord[]; hasNextPage: boolean }, after: boolean) {
  const edges = page.sessions.map((node) => ({ cursor: node.id, node }));
  const pageInfo = {
    hasNextPage: page.hasNextPage,
    hasPreviousPage: after,
    startCursor: edges[0]?.cursor ?? null,
    endCursor: edges[edges.length - 1]?.cursor ?? null,
  };
  return { edges, pageInfo };
}

/** Sessions page forward only, at most 500 at a time. */
function checkPaging(args: { first?: number | null; last?: number | null; before?: unknown }) {
  if (args.last != null || args.before != null) {
    throw new SyncError('BAD_USER_INPUT', 'last/before: page forward with first and after', 'last');
  }
  if (args.first != null && (args.first < 0 || args.first > 500)) {
    throw new SyncError('BAD_USER_INPUT', 'first: must be from 0 to 500', 'first');
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
        checkPaging(args);
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
    args: {
      sessionId: t.arg.id({ required: true }),
      serverVersion: t.arg.int({ required: true }),
      queriesVersion: t.arg.int({
        description:
          "The batch's queriesVersion: the client's data matches these queries (finishes a re-scoping).",
      }),
    },
    resolve: (_root, args, ctx) =>
      ctx.core.acknowledgeDownload(
        viewerOf(ctx),
        args.sessionId,
        args.serverVersion,
        args.queriesVersion ?? null,
      ),
  }),
}));
