/**
 * Property: the conflict rules reach the same documents whatever order the clients'
 * changesets arrive in. Three clients each make a few changesets (consecutive client
 * versions, increasing HLC timestamps, often equal across clients to exercise the client-id
 * tie break) over a tiny id space; a random interleaving that keeps each client's own order
 * is uploaded through the real SyncCore over SQLite, and the final documents must equal
 * those of the canonical order (all of client A, then B, then C). Every id is inserted
 * first, earlier than any of them, as a client can only update or delete a document that
 * exists (one never created is refused, whatever the order: see integrate.ts).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Clock } from '../src/clock.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import type { Change, Changeset, JsonObject, Viewer } from '../src/sync/model.js';
import { SyncCore } from '../src/sync/sync-core.js';

const CLIENTS = ['client-a', 'client-b', 'client-c'] as const;
const IDS = ['a', 'b', 'c'] as const;
const FIELDS = ['x', 'y', 'z'] as const;
const COLLECTION = 'items';
const VIEWER: Viewer = { id: 'u', roles: [] };
const CLOCK: Clock = { now: () => new Date(BASE_MS + 86_400_000), setTimer: () => () => undefined };
const BASE_MS = Date.parse('2026-11-26T19:55:08.120Z');

// ---- generators ---------------------------------------------------------------------

/** A change whose id is an index, mapped into the scenario's id space later. */
type RawChange = Omit<Change, 'collection' | 'id'> & { idIndex: number };

const value = fc.oneof(
  fc.integer({ min: 0, max: 3 }),
  fc.constantFrom('p', 'q'),
  fc.constant(null),
);
const fields = fc.record(
  { x: value, y: value, z: value },
  { requiredKeys: [] },
) as fc.Arbitrary<JsonObject>;
const idIndex = fc.nat({ max: IDS.length - 1 });

const insert = fc
  .record({ idIndex, document: fields })
  .map((c): RawChange => ({ op: 'INSERT', ...c }));
const update = fc
  .record({ idIndex, set: fields, unset: fc.subarray([...FIELDS]) })
  .map(({ idIndex, set, unset }): RawChange => {
    const empty = Object.keys(set).length === 0;
    if (empty && unset.length === 0) return { op: 'UPDATE', idIndex, set: { x: 0 } };
    return { op: 'UPDATE', idIndex, ...(empty ? {} : { set }), ...(unset.length ? { unset } : {}) };
  });
const remove = fc.record({ idIndex }).map((c): RawChange => ({ op: 'DELETE', ...c }));
const change = fc.oneof(insert, update, remove);

/** `step` advances the client's HLC; small steps make equal timestamps across clients likely. */
const rawChangeset = fc.record({
  step: fc.integer({ min: 1, max: 3 }),
  changes: fc.array(change, { minLength: 1, maxLength: 3 }),
});

type Mode = 'single' | 'resend' | 'batch';
const MAX_UPLOADS = CLIENTS.length * 4;

const scenario = fc.record({
  idCount: fc.integer({ min: 2, max: 3 }),
  clients: fc.tuple(...CLIENTS.map(() => fc.array(rawChangeset, { minLength: 0, maxLength: 4 }))),
  /** Per upload: which client with changesets left sends next (modulo how many remain). */
  picks: fc.array(fc.nat(), { minLength: MAX_UPLOADS, maxLength: MAX_UPLOADS }),
  /** Per upload: one changeset, or with the previous again (a lost ack), or two at once. */
  modes: fc.array(fc.constantFrom<Mode>('single', 'resend', 'batch'), {
    minLength: MAX_UPLOADS,
    maxLength: MAX_UPLOADS,
  }),
});
type Scenario = typeof scenario extends fc.Arbitrary<infer S> ? S : never;

// ---- building changesets and arrival orders -----------------------------------------

/** The HLC at tick `k`: a millisecond every 3 ticks, the counter for the rest. */
function hlc(k: number): string {
  const iso = new Date(BASE_MS + Math.floor(k / 3)).toISOString();
  return `${iso}-${String(k % 3).padStart(4, '0')}`;
}

function buildChangesets(s: Scenario): Changeset[][] {
  return s.clients.map((raws) => {
    let tick = 0;
    return raws.map((raw, i) => {
      tick += raw.step;
      const changes = raw.changes.map(({ idIndex: n, ...c }) => ({
        ...c,
        collection: COLLECTION,
        id: IDS[n % s.idCount] ?? 'a',
      }));
      return { clientVersion: i + 1, timestamp: hlc(tick), changes };
    });
  });
}

interface Upload {
  client: number;
  changesets: Changeset[];
}

/** Each client's changesets in its own order, interleaved by `picks`. */
function interleave(all: Changeset[][], picks: number[], modes: Mode[]): Upload[] {
  const next = all.map(() => 0);
  const uploads: Upload[] = [];
  for (let step = 0; ; step++) {
    const open = all.flatMap((list, client) => ((next[client] ?? 0) < list.length ? [client] : []));
    if (open.length === 0) return uploads;
    const client = open[(picks[step] ?? 0) % open.length] ?? 0;
    const list = all[client] ?? [];
    const at = next[client] ?? 0;
    const mode = modes[step] ?? 'single';
    const from = mode === 'resend' ? Math.max(0, at - 1) : at;
    const to = mode === 'batch' ? Math.min(list.length, at + 2) : at + 1;
    uploads.push({ client, changesets: list.slice(from, to) });
    next[client] = to;
  }
}

const canonical = (all: Changeset[][]): Upload[] =>
  all.flatMap((list, client) => list.map((cs) => ({ client, changesets: [cs] })));

// ---- running an order through the real core -----------------------------------------

/** Every id, inserted empty before any client's changesets. */
async function seedDocuments(core: SyncCore) {
  const seed = await core.openSession(VIEWER, 'client-seed', []);
  const changes = IDS.map((id) => ({ collection: COLLECTION, id, op: 'INSERT' as const }));
  const timestamp = `${new Date(BASE_MS - 1000).toISOString()}-0000`;
  const ack = await core.uploadChanges(VIEWER, seed.id, [
    { clientVersion: 1, timestamp, changes: changes.map((c) => ({ ...c, document: {} })) },
  ]);
  expect(ack.compensatingWrites).toEqual([]);
}

async function finalDocuments(uploads: Upload[]) {
  const store = new SqliteStore(':memory:');
  try {
    const core = new SyncCore({
      store,
      rules: { default: { read: true, write: true }, collections: {} },
      clock: CLOCK,
      limits: { maxDocumentBytes: 1 << 20, maxChangesPerUpload: 1000 },
      downloadBatchSize: 100,
      maxOfflineMs: Number.MAX_SAFE_INTEGER,
    });
    await seedDocuments(core);
    const sessions = [];
    for (const clientId of CLIENTS) sessions.push(await core.openSession(VIEWER, clientId, []));
    for (const u of uploads) {
      const ack = await core.uploadChanges(VIEWER, sessions[u.client]?.id ?? '', u.changesets);
      expect(ack.lastIntegratedClientVersion).toBe(u.changesets.at(-1)?.clientVersion);
      expect(ack.compensatingWrites).toEqual([]);
    }
    const docs = await store.getDocuments(IDS.map((id) => ({ collection: COLLECTION, id })));
    return docs.map((d) => ({ doc: d?.doc, state: d?.state }));
  } finally {
    await store.close();
  }
}

describe('conflict rules are independent of arrival order', () => {
  it('every interleaving reaches the state of the canonical order', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const all = buildChangesets(s);
        const shuffled = await finalDocuments(interleave(all, s.picks, s.modes));
        expect(shuffled).toEqual(await finalDocuments(canonical(all)));
      }),
      { numRuns: 100 },
    );
  });

  it('the generator interleaves clients and keeps each client in order', () => {
    const all = [[cs(1), cs(2)], [cs(1)], [cs(1), cs(2)]];
    const uploads = interleave(all, [0, 0, 0, 0], ['single', 'resend', 'batch', 'batch']);
    expect(uploads.map((u) => [u.client, u.changesets.map((c) => c.clientVersion)])).toEqual([
      [0, [1]],
      [0, [1, 2]],
      [1, [1]],
      [2, [1, 2]],
    ]);
  });
});

function cs(clientVersion: number): Changeset {
  return { clientVersion, timestamp: hlc(clientVersion), changes: [] };
}
