/** The upload side: changeset inputs, `uploadChanges` and its acknowledgement. */
import type { UploadAck } from '../sync/sync-core.js';
import type { CompensatingWrite } from '../sync/integrate.js';
import { builder } from './builder.js';
import { viewerOf } from './viewer.js';

const ChangeOp = builder.enumType('ChangeOp', { values: ['INSERT', 'UPDATE', 'DELETE'] as const });

const ChangeInput = builder.inputType('ChangeInput', {
  fields: (t) => ({
    collection: t.string({ required: true }),
    id: t.id({ required: true }),
    op: t.field({ type: ChangeOp, required: true }),
    document: t.field({ type: 'JSON', description: 'INSERT: the whole document.' }),
    set: t.field({ type: 'JSON', description: 'UPDATE: fields to set.' }),
    unset: t.stringList({ description: 'UPDATE: fields to remove.' }),
  }),
});

const ChangesetInput = builder.inputType('ChangesetInput', {
  fields: (t) => ({
    clientVersion: t.int({ required: true }),
    timestamp: t.string({
      required: true,
      description: 'Hybrid logical clock: 2026-11-26T19:55:08.123Z-0001',
    }),
    changes: t.field({ type: [ChangeInput], required: true }),
  }),
});

const CompensatingWriteRef = builder.objectRef<CompensatingWrite>('CompensatingWrite').implement({
  description: "A refused write: the server's version of the document (null if none) and why.",
  fields: (t) => ({
    collection: t.exposeString('collection'),
    id: t.exposeID('id'),
    reason: t.exposeString('reason'),
    document: t.field({ type: 'JSON', nullable: true, resolve: (w) => w.document }),
  }),
});

const UploadAckRef = builder.objectRef<UploadAck>('UploadAck').implement({
  fields: (t) => ({
    lastIntegratedClientVersion: t.exposeInt('lastIntegratedClientVersion'),
    serverVersion: t.exposeInt('serverVersion'),
    compensatingWrites: t.field({
      type: [CompensatingWriteRef],
      resolve: (a) => a.compensatingWrites,
    }),
  }),
});

builder.mutationFields((t) => ({
  uploadChanges: t.field({
    type: UploadAckRef,
    description: 'Integrates changesets in order; answers only once they are durable.',
    args: {
      sessionId: t.arg.id({ required: true }),
      changesets: t.arg({ type: [ChangesetInput], required: true }),
      latestClientVersion: t.arg.int({
        description:
          'The newest changeset the client has made, sent or not (what waitForUpload waits for).',
      }),
      pendingBytes: t.arg.float({
        description: 'Bytes the client still has to send after this request (for upload progress).',
      }),
    },
    resolve: (_root, args, ctx) =>
      ctx.core.uploadChanges(
        viewerOf(ctx),
        args.sessionId,
        args.changesets.map((cs) => ({
          ...cs,
          changes: cs.changes.map((c) => ({
            ...c,
            document: c.document ?? undefined,
            set: c.set ?? undefined,
          })),
        })),
        { latestClientVersion: args.latestClientVersion, pendingBytes: args.pendingBytes },
      ),
  }),
}));
