/** Sync progress: the `progress` subscription and the session's progress fields. */
import type { SyncProgress } from '../session/progress.js';
import { abortable } from '../server/abortable.js';
import { builder } from './builder.js';
import { ProgressDirectionEnum, ProgressModeEnum } from './enums.js';
import { SyncSessionRef } from './session.js';
import { viewerOf } from './viewer.js';

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

builder.subscriptionFields((t) => ({
  progress: t.field({
    type: SyncProgressRef,
    description:
      'Progress of one direction: the first value at once; FOR_CURRENTLY_OUTSTANDING_WORK completes after 1.0.',
    args: {
      sessionId: t.arg.id({ required: true }),
      direction: t.arg({ type: ProgressDirectionEnum, required: true }),
      mode: t.arg({ type: ProgressModeEnum, required: true }),
    },
    subscribe: async (_root, args, ctx) => {
      const viewer = viewerOf(ctx);
      await ctx.core.getSession(viewer, args.sessionId);
      return abortable((signal) =>
        ctx.sessions.watchProgress(viewer, args.sessionId, args.direction, args.mode, signal),
      );
    },
    resolve: (value) => value,
  }),
}));
