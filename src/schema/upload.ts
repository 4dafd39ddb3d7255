/** The upload side's shapes: changeset inputs and the acknowledgement of `uploadChanges`. */
import type { UploadAck } from '../sync/sync-core.js';
import type { CompensatingWrite } from '../sync/integrate.js';
import { builder } from './builder.js';

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

export const ChangesetInput = builder.inputType('ChangesetInput', {
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

export const UploadAckRef = builder.objectRef<UploadAck>('UploadAck').implement({
  fields: (t) => ({
    lastIntegratedClientVersion: t.exposeInt('lastIntegratedClientVersion'),
    serverVersion: t.exposeInt('serverVersion'),
    compensatingWrites: t.field({
      type: [CompensatingWriteRef],
      resolve: (a) => a.compensatingWrites,
    }),
  }),
});
