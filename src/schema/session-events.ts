/** The shapes of watching a session: its control events and connection state changes. */
import type { ConnectionStateChange } from '../session/connection-tracker.js';
import type { SessionEvent } from '../session/session-events.js';
import { builder } from './builder.js';
import { ConnectionStateEnum } from './enums.js';
import { currentSession } from './access.js';
import { SyncSessionRef } from './session.js';

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

export const SessionEventRef = builder.objectRef<SessionEvent>('SessionEvent').implement({
  fields: (t) => ({
    type: t.field({ type: SessionEventTypeEnum, resolve: (e) => e.type }),
    session: t.field({
      type: SyncSessionRef,
      resolve: (e, _args, ctx) => currentSession(ctx, e.sessionId),
    }),
    at: t.field({ type: 'DateTime', resolve: (e) => e.at }),
  }),
});

export const ConnectionStateChangeRef = builder
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
