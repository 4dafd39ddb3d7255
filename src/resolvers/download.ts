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
      'The download stream: since omitted starts after the last acknowledged version; 0 bootstraps.',
    args: { sessionId: t.arg.id({ required: true }), since: t.arg.int() },
    subscribe: async (_root, args, ctx) => {
      const viewer = viewerOf(ctx);
      const since = args.since ?? null;
      const session = await ctx.core.checkChanges(viewer, args.sessionId, since);
      bindSocket(ctx, session);
      return abortable((signal) => ctx.core.streamChanges(session, since, signal));
    },
    resolve: (batch) => batch,
  }),
}));
