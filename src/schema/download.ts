/** The download side's shapes: the batches of the `changes` stream. */
import type { DownloadBatch, DownloadChange } from '../sync/download.js';
import { builder } from './builder.js';

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

export const DownloadBatchRef = builder.objectRef<DownloadBatch>('DownloadBatch').implement({
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
    bootstrapUntil: t.exposeInt('bootstrapUntil', {
      nullable: true,
      description:
        'Set on batches of a bootstrap: the server version its snapshot is complete at. The first ' +
        'batch of a bootstrap has fromServerVersion 0, and a client replaces its synced state for ' +
        'the scope with the snapshot; to resume an interrupted bootstrap, subscribe with since: ' +
        'the last acknowledged toServerVersion and bootstrapUntil.',
    }),
    queriesVersion: t.exposeInt('queriesVersion', {
      description:
        "The version of the session's queries that the client's data matches once it has " +
        'applied this batch (acknowledge it with acknowledgeDownload).',
    }),
  }),
});
