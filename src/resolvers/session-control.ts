/** Managing a session: pause, resume, waits with cancellation tokens, reconnect. */
import { builder } from '../schema/builder.js';
import { viewerOf } from '../schema/access.js';
import { ProgressDirectionEnum } from '../schema/enums.js';
import { CancellationTokenRef, ReconnectResultRef } from '../schema/session-control.js';
import { SyncSessionRef } from '../schema/session.js';

builder.mutationFields((t) => ({
  pauseSession: t.field({
    type: SyncSessionRef,
    description: 'Stops the session in both directions (or one), until resumed or until `until`.',
    args: {
      id: t.arg.id({ required: true }),
      direction: t.arg({ type: ProgressDirectionEnum }),
      until: t.arg({ type: 'DateTime' }),
    },
    resolve: (_root, args, ctx) =>
      ctx.sessions.pause(viewerOf(ctx), args.id, args.direction ?? null, args.until ?? null),
  }),
  resumeSession: t.field({
    type: SyncSessionRef,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => ctx.sessions.resume(viewerOf(ctx), args.id),
  }),
  waitForUpload: t.field({
    type: SyncSessionRef,
    description: 'Resolves when every changeset the client had reported at the call is integrated.',
    args: {
      sessionId: t.arg.id({ required: true }),
      cancellationToken: t.arg.id(),
      timeoutMs: t.arg.int(),
    },
    resolve: (_root, args, ctx) =>
      ctx.sessions.waitForUpload(viewerOf(ctx), args.sessionId, { ...args, signal: ctx.signal }),
  }),
  waitForDownload: t.field({
    type: SyncSessionRef,
    description:
      'Resolves when the client has acknowledged every version in its scope that existed at the call.',
    args: {
      sessionId: t.arg.id({ required: true }),
      cancellationToken: t.arg.id(),
      timeoutMs: t.arg.int(),
    },
    resolve: (_root, args, ctx) =>
      ctx.sessions.waitForDownload(viewerOf(ctx), args.sessionId, { ...args, signal: ctx.signal }),
  }),
  createCancellationToken: t.field({
    type: CancellationTokenRef,
    resolve: (_root, _args, ctx) => ctx.sessions.tokens.create(viewerOf(ctx).id),
  }),
  cancel: t.field({
    type: CancellationTokenRef,
    description: 'Fails every wait holding this token with CANCELLED.',
    args: { cancellationToken: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) =>
      ctx.sessions.tokens.cancel(viewerOf(ctx).id, args.cancellationToken),
  }),
  reconnect: t.field({
    type: ReconnectResultRef,
    description:
      'Asks one session (sessionId), or every session of yours (every session, for an admin), to reconnect now.',
    args: {
      sessionId: t.arg.id({ description: 'Only this session; omitted: all of yours.' }),
    },
    resolve: async (_root, args, ctx) => ({
      sessions: await ctx.sessions.reconnect(viewerOf(ctx), args.sessionId ?? undefined),
    }),
  }),
}));
