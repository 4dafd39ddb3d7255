/** Watching a session: its control events and its connection state changes. */
import type { ConnectionStateChange } from '../session/connection-tracker.js';
import type { SessionEvent } from '../session/session-events.js';
import { abortable } from '../server/abortable.js';
import { builder } from './builder.js';
import { ConnectionStateEnum } from './enums.js';
import type { GatewayContext } from '../server/context.js';
import { SyncSessionRef, visibleSession } from './session.js';
import { bindSocket, viewerOf } from './viewer.js';

/** A subscription's context lives as long as it does: each event reads the session afresh. */
function currentSession(ctx: GatewayContext, id: string) {
  ctx.loaders.sessions.clear(id);
  return visibleSession(ctx, id);
}

const SessionEventTypeEnum = builder.enumType('SessionEventType', {
  values: [
    'PAUSED',
    'RESUMED',
    'RECONNECT_REQUESTED',
    'CLIENT_RESET_REQUIRED',
    'QUERIES_CHANGED',
    'CLOSED',
  ] as const,
});

const SessionEventRef = builder.objectRef<SessionEvent>('SessionEvent').implement({
  fields: (t) => ({
    type: t.field({ type: SessionEventTypeEnum, resolve: (e) => e.type }),
    session: t.field({
      type: SyncSessionRef,
      resolve: (e, _args, ctx) => currentSession(ctx, e.sessionId),
    }),
    at: t.field({ type: 'DateTime', resolve: (e) => e.at }),
  }),
});

const ConnectionStateChangeRef = builder
  .objectRef<ConnectionStateChange>('ConnectionStateChange')
  .implement({
    fields: (t) => ({
      session: t.field({
        type: SyncSessionRef,
        resolve: (c, _args, ctx) => currentSession(ctx, c.sessionId),
      }),
      previous: t.field({ type: ConnectionStateEnum, resolve: (c) => c.previous }),
      current: t.field({ type: ConnectionStateEnum, resolve: (c) => c.current }),
      at: t.field({ type: 'DateTime', resolve: (c) => c.at }),
    }),
  });

builder.subscriptionFields((t) => ({
  sessionEvents: t.field({
    type: SessionEventRef,
    description:
      "The session's control stream: paused, resumed, reconnect, reset. Binds the socket.",
    args: { sessionId: t.arg.id({ required: true }) },
    subscribe: async (_root, args, ctx) => {
      const viewer = viewerOf(ctx);
      bindSocket(ctx, await ctx.core.getSession(viewer, args.sessionId));
      return abortable(async (signal) => ctx.sessions.watchEvents(viewer, args.sessionId, signal));
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
      return abortable(async (signal) =>
        ctx.sessions.watchConnection(viewer, args.sessionId, signal),
      );
    },
    resolve: (change) => change,
  }),
}));
