/** Watching a session: `sessionEvents` (which binds the socket) and `connectionStateChanges`. */
import { abortable } from '../streams/abortable.js';
import { builder } from '../schema/builder.js';
import { viewerOf } from '../schema/access.js';
import { ConnectionStateChangeRef, SessionEventRef } from '../schema/session-events.js';
import { bindSocket } from './socket.js';

builder.subscriptionFields((t) => ({
  sessionEvents: t.field({
    type: SessionEventRef,
    description:
      "The session's control stream: paused, resumed, reconnect, reset. Binds the socket.",
    args: { sessionId: t.arg.id({ required: true }) },
    subscribe: async (_root, args, ctx) => {
      const viewer = viewerOf(ctx);
      bindSocket(ctx, await ctx.core.getSession(viewer, args.sessionId));
      return abortable(
        async (signal) => ctx.sessions.watchEvents(viewer, args.sessionId, signal),
        ctx.operation,
      );
    },
    resolve: (event) => event,
  }),
  connectionStateChanges: t.field({
    type: ConnectionStateChangeRef,
    description: "Every real change of the session's connection state, and only those.",
    args: { sessionId: t.arg.id({ required: true }) },
    subscribe: async (_root, args, ctx) => {
      const viewer = viewerOf(ctx);
      await ctx.core.getSession(viewer, args.sessionId);
      return abortable(
        async (signal) => ctx.sessions.watchConnection(viewer, args.sessionId, signal),
        ctx.operation,
      );
    },
    resolve: (change) => change,
  }),
}));
