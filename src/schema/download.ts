/** The download side: the `changes` subscription and its batches. */
import type { DownloadBatch, DownloadChange } from '../sync/download.js';
import { abortable } from '../server/abortable.js';
import { builder } from './builder.js';
import { bindSocket, viewerOf } from './viewer.js';

const DownloadOp = builder.enumType('DownloadOp', {
  values: ['UPSERT', 'REMOVE'] as const,
  description: "REMOVE: deleted, or no longer in the session's queries.",
});

const DownloadChangeRef = builder.objectRef<DownloadChange>('DownloadChange').implement({
  fields: (t) => ({
    serverVersion: t.exposeInt('serverVersion'),
    collection: t.exposeString('collection'),
    id: t.exposeID('id'),
    op: t.field({ type: DownloadOp, resolve: (c) => c.op }),
    document: t.field({ type: 'JSON', nullable: true, resolve: (c) => c.document }),
  }),
});

const DownloadBatchRef = builder.objectRef<DownloadBatch>('DownloadBatch').implement({
  fields: (t) => ({
    fromServerVersion: t.exposeInt('fromServerVersion'),
    toServerVersion: t.exposeInt('toServerVersion', {
      description: 'Acknowledge this once applied.',
    }),
    changes: t.field({ type: [DownloadChangeRef], resolve: (b) => b.changes }),
    remainingChanges: t.exposeInt('remainingChanges', {
      description: 'History entries after this batch (an upper bound on what is still to come).',
    }),
    latestServerVersion: t.exposeInt('latestServerVersion'),
  }),
});

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
