/** Sync progress: its shape, and the session's progress fields. */
import type { SyncProgress } from '../session/progress.js';
import { builder } from './builder.js';
import { ProgressDirectionEnum } from './enums.js';
import { SyncSessionRef } from './session.js';

export const SyncProgressRef = builder.objectRef<SyncProgress>('SyncProgress').implement({
  fields: (t) => ({
    direction: t.field({ type: ProgressDirectionEnum, resolve: (p) => p.direction }),
    progressEstimate: t.exposeFloat('progressEstimate', {
      description: 'From 0.0 to 1.0; 1.0 when nothing is outstanding.',
    }),
    transferredBytes: t.exposeFloat('transferredBytes'),
    transferableBytes: t.exposeFloat('transferableBytes'),
  }),
});

builder.objectFields(SyncSessionRef, (t) => ({
  uploadProgress: t.field({
    type: SyncProgressRef,
    description: 'Upload progress of the work outstanding since the client last had none.',
    resolve: (s, _args, ctx) => ctx.sessions.uploadProgress(s),
  }),
  downloadProgress: t.field({
    type: SyncProgressRef,
    description: "What remains to download in the session's scope after its acknowledgement.",
    resolve: (s, _args, ctx) => ctx.sessions.downloadProgress(s),
  }),
}));
