/** `changes`: the download stream of a session, which binds the socket to it. */
import { abortable } from '../streams/abortable.js';
import { builder } from '../schema/builder.js';
import { viewerOf } from '../schema/access.js';
import { DownloadBatchRef } from '../schema/download.js';
import { bindSocket } from './socket.js';

builder.subscriptionFields((t) => ({
  changes: t.field({
    type: DownloadBatchRef,
    description:
      'The download stream: since omitted starts after the last acknowledged version; since 0, or nothing acknowledged yet, bootstraps the scope.',
    args: {
      sessionId: t.arg.id({ required: true }),
      since: t.arg.int(),
      bootstrapUntil: t.arg.int({
        description:
          "Resumes an interrupted bootstrap: its batches' bootstrapUntil, with since the last toServerVersion acknowledged.",
      }),
    },
    subscribe: async (_root, args, ctx) => {
      const viewer = viewerOf(ctx);
      const start = { since: args.since ?? null, bootstrapUntil: args.bootstrapUntil ?? null };
      const session = await ctx.core.checkChanges(viewer, args.sessionId, start);
      bindSocket(ctx, session);
      return abortable((signal) => ctx.core.streamChanges(session, start, signal), ctx.operation);
    },
    resolve: (batch) => batch,
  }),
}));
