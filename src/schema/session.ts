/** SyncSession, User, SyncQuery and the inputs that open and re-scope sessions. */
import type { SessionRecord, SyncQuery } from '../sync/model.js';
import { sessionState } from '../sync/pause.js';
import { builder } from './builder.js';
import { ConnectionStateEnum, ProgressDirectionEnum, SessionStateEnum } from './enums.js';
import { findVisibleSession } from './access.js';

export const UserRef = builder.objectRef<{ id: string }>('User').implement({
  fields: (t) => ({ id: t.exposeID('id') }),
});

export const SyncQueryRef = builder.objectRef<SyncQuery>('SyncQuery').implement({
  fields: (t) => ({
    collection: t.exposeString('collection'),
    filter: t.field({ type: 'JSON', nullable: true, resolve: (q) => q.filter }),
  }),
});

export const SyncQueryInput = builder.inputType('SyncQueryInput', {
  fields: (t) => ({
    collection: t.string({ required: true }),
    filter: t.field({
      type: 'JSON',
      description: 'A MongoDB filter; omit for the whole collection.',
    }),
  }),
});

export const SyncSessionRef = builder.node(builder.objectRef<SessionRecord>('SyncSession'), {
  id: { resolve: (s) => s.id },
  loadMany: (ids, ctx) => ids.map((id) => findVisibleSession(ctx, id)),
  isTypeOf: (value) => typeof value === 'object' && value !== null && 'clientId' in value,
  fields: (t) => ({
    clientId: t.exposeID('clientId'),
    user: t.field({ type: UserRef, resolve: (s) => ({ id: s.userId }) }),
    lastIntegratedClientVersion: t.exposeInt('lastIntegratedClientVersion', {
      description: 'Upload acknowledged up to this client version.',
    }),
    lastDownloadedServerVersion: t.exposeInt('lastDownloadedServerVersion', {
      description: 'The client has acknowledged the download up to this server version.',
    }),
    queries: t.field({ type: [SyncQueryRef], resolve: (s) => s.queries }),
    queriesVersion: t.exposeInt('queriesVersion', {
      description: 'Goes up by one whenever the queries change (openSession, updateQueries).',
    }),
    resetRequired: t.exposeBoolean('resetRequired', {
      description: 'The client was offline past the max offline time and must reset.',
    }),
    lastSyncedAt: t.field({
      type: 'DateTime',
      description:
        'When the client last synced or was last connected; offline past the max offline time from here, it must reset.',
      resolve: (s) => s.lastSyncedAt,
    }),
    state: t.field({
      type: SessionStateEnum,
      resolve: (s, _args, ctx) => sessionState(s.pause, ctx.sessions.clock.now()),
    }),
    connectionState: t.field({
      type: ConnectionStateEnum,
      resolve: (s, _args, ctx) => ctx.sessions.connections.stateOf(s.id),
    }),
    pausedDirections: t.field({
      type: [ProgressDirectionEnum],
      description: 'The directions a pause in force stops; empty when ACTIVE.',
      resolve: (s, _args, ctx) => ctx.sessions.pauseOf(s)?.directions ?? [],
    }),
    pausedUntil: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When the pause in force ends by itself; null when it waits for resumeSession.',
      resolve: (s, _args, ctx) => ctx.sessions.pauseOf(s)?.until ?? null,
    }),
    latestClientVersion: t.exposeInt('latestClientVersion', {
      description: 'The newest changeset the client reported making, sent or not.',
    }),
    closed: t.exposeBoolean('closed'),
    createdAt: t.field({ type: 'DateTime', resolve: (s) => s.createdAt }),
  }),
});

export const OpenSessionInput = builder.inputType('OpenSessionInput', {
  fields: (t) => ({
    clientId: t.id({ required: true }),
    queries: t.field({ type: [SyncQueryInput], required: true }),
  }),
});
