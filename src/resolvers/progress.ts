/** `progress`: one direction's sync progress of a session, as a stream. */
import { abortable } from '../streams/abortable.js';
import { builder } from '../schema/builder.js';
import { viewerOf } from '../schema/access.js';
import { ProgressDirectionEnum, ProgressModeEnum } from '../schema/enums.js';
import { SyncProgressRef } from '../schema/progress.js';

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
      return abortable(
        (signal) =>
          ctx.sessions.watchProgress(viewer, args.sessionId, args.direction, args.mode, signal),
        ctx.operation,
      );
    },
    resolve: (value) => value,
  }),
}));
