/**
 * The sessions this gateway serves, counted at scrape time: `sync_sessions{state,connection}`
 * and the largest download lag among them.
 *
 * Cost: the sessions counted are those with a socket on this gateway (the in-memory
 * connection tracker), read from the store in pages of 500 ids (one query per page on
 * MongoDB, one indexed lookup per id on SQLite): O(connected sessions), never a scan of all
 * sessions. Disconnected sessions are therefore not counted: the store port has no count
 * query, and a scan per scrape would cost O(all sessions). Summed over the gateways of a
 * deployment (`sum by (state, connection)`), the counts are the deployment's, a session
 * connected to two gateways at once counting twice.
 */
import { Gauge, type Registry } from 'prom-client';
import type { Clock } from '../clock.js';
import type { ConnectionState } from '../session/connection-state.js';
import type { SessionService } from '../session/session-service.js';
import type { SessionRecord } from '../sync/model.js';
import { sessionState } from '../sync/pause.js';
import { withTimeout } from './with-timeout.js';

const PAGE = 500;
/** A scrape does not wait longer than this for the store. */
const STORE_TIMEOUT_MS = 2_000;

type State = 'ACTIVE' | 'INACTIVE' | 'RESET_REQUIRED' | 'CLOSED' | 'UNKNOWN';

interface Snapshot {
  counts: Map<string, { state: State; connection: ConnectionState; n: number }>;
  maxLag: number;
}

async function readSessions(sessions: SessionService, ids: string[]) {
  const found: (SessionRecord | undefined)[] = [];
  for (let i = 0; i < ids.length; i += PAGE) {
    found.push(...(await sessions.core.store.getSessions(ids.slice(i, i + PAGE))));
  }
  return found;
}

function stateOf(session: SessionRecord | undefined, now: Date): State {
  if (!session) return 'UNKNOWN';
  if (session.closed) return 'CLOSED';
  if (session.resetRequired) return 'RESET_REQUIRED';
  return sessionState(session.pause, now);
}

async function snapshot(sessions: SessionService, clock: Clock): Promise<Snapshot> {
  const local = sessions.connections.localSessions().filter(([, c]) => c !== 'DISCONNECTED');
  const ids = local.map(([id]) => id);
  const read = () => readSessions(sessions, ids);
  const records = await withTimeout(read, STORE_TIMEOUT_MS, clock).catch(() =>
    ids.map(() => undefined),
  );
  const counts: Snapshot['counts'] = new Map();
  const now = clock.now();
  const latest = sessions.core.feed.latest;
  let maxLag = 0;
  local.forEach(([, connection], i) => {
    const record = records[i];
    const state = stateOf(record, now);
    const key = `${state}|${connection}`;
    const entry = counts.get(key) ?? { state, connection, n: 0 };
    counts.set(key, { ...entry, n: entry.n + 1 });
    if (record) maxLag = Math.max(maxLag, latest - record.lastDownloadedServerVersion);
  });
  return { counts, maxLag };
}

/** One store read per scrape, shared by the gauges that a scrape collects together. */
function sharedSnapshot(sessions: SessionService, clock: Clock): () => Promise<Snapshot> {
  let pending: Promise<Snapshot> | null = null;
  return () => {
    pending ??= snapshot(sessions, clock).finally(() => (pending = null));
    return pending;
  };
}

export function registerSessionGauges(registry: Registry, sessions: SessionService, clock: Clock) {
  const take = sharedSnapshot(sessions, clock);
  new Gauge({
    name: 'sync_sessions',
    help: "Sessions with a socket on this gateway, by state (the session's) and connection (this gateway's sockets)",
    labelNames: ['state', 'connection'] as const,
    registers: [registry],
    async collect() {
      const { counts } = await take();
      this.reset();
      for (const state of ['ACTIVE', 'INACTIVE'] as const) {
        for (const connection of ['CONNECTING', 'CONNECTED'] as const) {
          this.set({ state, connection }, 0);
        }
      }
      for (const { state, connection, n } of counts.values()) this.set({ state, connection }, n);
    },
  });
  new Gauge({
    name: 'sync_download_lag_max_versions',
    help: 'Largest (latest server version - acknowledged version) among the sessions with a socket on this gateway',
    registers: [registry],
    async collect() {
      this.set((await take()).maxLag);
    },
  });
}
