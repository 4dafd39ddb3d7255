/**
 * Selective wake (src/sync/interest.ts, src/sync/wake-index.ts): a stream is woken only by
 * entries that can concern its scope, the entries that pass it by are skipped, and its cursor
 * refresh still falls due. The in-memory check is a superset of `Scope.includes` over
 * generated documents, filters and read rules.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import { interestOf, mayMeet, valuesAt, type Interest } from '../src/sync/interest.js';
import type { HistoryEntry, JsonObject } from '../src/sync/model.js';
import { UserPermissions, type RulesConfig } from '../src/sync/permissions.js';
import { ANY } from '../src/sync/scope-condition.js';
import { Scope } from '../src/sync/scope.js';
import type { HistoryRead } from '../src/sync/shared-history.js';
import { WakeIndex, type IndexedWaiter } from '../src/sync/wake-index.js';
import { doc, filter, READ_RULES, USERS } from './helpers/scope-arbitraries.js';

describe('interest', () => {
  it('reads the scalars at a path through arrays, and tells "1" from 1', () => {
    const d = { a: [{ b: 'x' }, { b: ['y', ['z']] }], n: 1, s: '1', o: { b: 2 }, z: null };
    expect(valuesAt(d, 'a.b')).toEqual({ scalars: ['x', 'y', 'z'], wide: true });
    expect(valuesAt(d, 'o')).toEqual({ scalars: [], wide: false });
    expect(valuesAt(d, 'missing.b')).toEqual({ scalars: [], wide: false });
    expect(valuesAt({ t: ['u1', ['u2']] }, 't')).toEqual({ scalars: ['u1', 'u2'], wide: false });
    // An array along the path may meet any equality (mingo reads through nested arrays).
    expect(mayMeet({ path: 'a.b', in: ['u1'] }, { a: [['u1']] })).toBe(true);
    expect(mayMeet({ path: 'o.b', in: [3] }, d)).toBe(false);
    expect(mayMeet({ path: 'n', in: [1] }, d)).toBe(true);
    expect(mayMeet({ path: 'n', in: ['1'] }, d)).toBe(false);
    expect(mayMeet({ path: 's', in: [1] }, d)).toBe(false);
    expect(mayMeet({ path: 'z', in: [] }, d)).toBe(false);
    expect(
      mayMeet(
        {
          and: [
            { path: 'n', in: [1] },
            { path: 's', in: ['2'] },
          ],
        },
        d,
      ),
    ).toBe(false);
    expect(
      mayMeet(
        {
          or: [
            { path: 'n', in: [2] },
            { path: 'a.b', in: ['z'] },
          ],
        },
        d,
      ),
    ).toBe(true);
    expect(mayMeet(ANY, d)).toBe(true);
  });

  it('indexes a scope by an equality it requires, and leaves out what it cannot see', () => {
    const rules: RulesConfig = {
      default: { read: { ownerId: '%%user.id' }, write: true },
      collections: { open: { read: true, write: true }, hidden: { read: false, write: true } },
    };
    const queries = [
      { collection: 'cars', filter: { color: 'red' } },
      { collection: 'open', filter: null },
      { collection: 'hidden', filter: null },
    ];
    const interest = new Scope(queries, new UserPermissions(rules, 'u1')).interest;
    expect([...interest.keys()]).toEqual(['cars', 'open']);
    expect(interest.get('cars')!.key).toEqual({ path: 'color', in: ['red'] });
    expect(interest.get('open')!.key).toBeNull();
  });

  it('never misses a document the scope includes (generated documents, filters, rules)', () => {
    fc.assert(
      fc.property(
        doc,
        fc.array(filter, { minLength: 1, maxLength: 2 }),
        fc.constantFrom(...READ_RULES),
        (d: JsonObject, filters, read) => {
          const rules: RulesConfig = { default: { read, write: true }, collections: {} };
          const queries = filters.map((f) => ({ collection: 'items', filter: f }));
          for (const user of USERS) {
            let scope: Scope;
            try {
              scope = new Scope(queries, new UserPermissions(rules, user));
            } catch {
              return; // a filter the gateway refuses
            }
            if (!scope.includes('items', d)) continue;
            const part = scope.interest.get('items');
            expect(part && mayMeet(part.condition, d), JSON.stringify({ d, filters })).toBe(true);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });
});

// ---- the index -----------------------------------------------------------------------

const entry = (
  version: number,
  before: JsonObject | null,
  after: JsonObject | null,
  collection = 'cars',
): HistoryEntry => ({
  version,
  collection,
  id: `d${version}`,
  clientId: 'c',
  clientVersion: version,
  before,
  after,
  committedAt: 'T',
});

/** The history as a list: what the shared history would return from memory. */
class ListHistory {
  readonly entries: HistoryEntry[] = [];
  lostBefore = 0;
  async read(after: number, limit: number): Promise<HistoryRead> {
    const latest = this.entries.length;
    const from = Math.max(after, this.lostBefore);
    return { entries: this.entries.slice(from, from + limit), latest };
  }
}

const owner = (user: string): Interest =>
  interestOf(new Map([['cars', { path: 'ownerId', in: [user] }]]));

interface Recorded extends IndexedWaiter {
  woken: (number | null)[];
}

function waiter(after: number, interest: Interest, refreshAt = Infinity): Recorded {
  const woken: (number | null)[] = [];
  return { after, interest, refreshAt, woken, wake: (skipTo) => woken.push(skipTo) };
}

function setup() {
  const clock = new ManualClock(0);
  const history = new ListHistory();
  const index = new WakeIndex(history, clock, 0);
  const commit = async (...entries: [JsonObject | null, JsonObject | null, string?][]) => {
    for (const [before, after, collection] of entries)
      history.entries.push(entry(history.entries.length + 1, before, after, collection));
    index.advance(history.entries.length);
    await index.idle();
  };
  return { clock, history, index, commit };
}

describe('wake index', () => {
  it('wakes only the waiters an entry can concern, before or after it', async () => {
    const { index, commit } = setup();
    const users = Array.from({ length: 100 }, (_, i) => `u${i}`);
    const waiters = users.map((u) => waiter(0, owner(u)));
    waiters.forEach((w) => index.add(w));
    await commit([null, { ownerId: 'u7' }]);
    expect(waiters.filter((w) => w.woken.length > 0)).toEqual([waiters[7]]);
    expect(waiters[7]!.woken).toEqual([null]);
    expect(index.size).toBe(99);

    await commit([{ ownerId: 'u1' }, { ownerId: ['u2', 'u3'] }]);
    const woken = waiters.filter((w) => w.woken.length > 0).map((w) => users[waiters.indexOf(w)]);
    expect(woken).toEqual(['u1', 'u2', 'u3', 'u7']);
    expect(index.woken).toBe(4);
  });

  it('wakes every waiter indexed by a path an array lies along', async () => {
    const { index, commit } = setup();
    const byPath = (u: string) => interestOf(new Map([['cars', { path: 'a.b', in: [u] }]]));
    const waiters = ['u1', 'u2'].map((u) => waiter(0, byPath(u)));
    waiters.forEach((w) => index.add(w));
    await commit([null, { a: { b: 'u2' } }]);
    expect(waiters.map((w) => w.woken)).toEqual([[], [null]]);
    await commit([null, { a: [['u1']] }]);
    expect(waiters.map((w) => w.woken)).toEqual([[null], [null]]);
  });

  it('wakes a waiter without an indexed field by any entry of its collections only', async () => {
    const { index, commit } = setup();
    const all = waiter(0, interestOf(new Map([['cars', ANY]])));
    index.add(all);
    await commit([null, { x: 1 }, 'boats']);
    expect(all.woken).toEqual([]);
    await commit([null, { x: 1 }, 'cars']);
    expect(all.woken).toEqual([null]);
  });

  it('ignores entries up to the version a waiter waits after', async () => {
    const { index, history, commit } = setup();
    history.entries.push(entry(1, null, { ownerId: 'u1' }));
    const w = waiter(1, owner('u1'));
    index.add(w);
    index.advance(1);
    await index.idle();
    expect(w.woken).toEqual([]);
    await commit([null, { ownerId: 'u1' }]);
    expect(w.woken).toEqual([null]);
  });

  it('wakes a passed-by waiter when its refresh is due, to skip what was matched', async () => {
    const { clock, index, commit } = setup();
    const w = waiter(0, owner('u1'), 5_000);
    index.add(w);
    await commit([null, { ownerId: 'u2' }], [null, { ownerId: 'u3' }]);
    clock.advance(4_000);
    expect(w.woken).toEqual([]);
    clock.advance(1_000);
    expect(w.woken).toEqual([2]);
    expect(index.size).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it('arms no timer for a waiter nothing passed by, and drops it when it leaves', async () => {
    const { clock, index, commit } = setup();
    const w = waiter(0, owner('u1'), 5_000);
    index.add(w);
    expect(clock.pendingTimers).toBe(0);
    await commit([null, { ownerId: 'u2' }]);
    expect(clock.pendingTimers).toBe(1);
    index.remove(w);
    expect(clock.pendingTimers).toBe(0);
    expect(index.size).toBe(0);
  });

  it('wakes everyone to read for themselves when the history it needs is lost', async () => {
    const { index, history, commit } = setup();
    const waiters = ['u1', 'u2'].map((u) => waiter(0, owner(u)));
    waiters.forEach((w) => index.add(w));
    history.lostBefore = 1;
    await commit([null, { ownerId: 'u9' }], [null, { ownerId: 'u9' }]);
    expect(waiters.map((w) => w.woken)).toEqual([[null], [null]]);
    expect(index.checkedTo).toBe(2);
  });

  it('wakes at once a waiter added behind what it has matched', async () => {
    const { index, commit } = setup();
    const early = waiter(0, owner('u1'));
    index.add(early);
    await commit([null, { ownerId: 'u2' }]);
    const late = waiter(0, owner('u1'));
    index.add(late);
    expect(late.woken).toEqual([null]);
    expect(early.woken).toEqual([]);
  });

  it('never matches past the latest version it was told of (the store may hold more)', async () => {
    const { index, history } = setup();
    history.entries.push(entry(1, null, { ownerId: 'u2' }), entry(2, null, { ownerId: 'u1' }));
    const w = waiter(0, owner('u1'));
    index.add(w);
    index.advance(1);
    await index.idle();
    expect(index.checkedTo).toBe(1);
    // A stream caught up at the feed's latest version waits, not woken at once.
    const next = waiter(1, owner('u1'));
    index.add(next);
    expect(next.woken).toEqual([]);
    index.advance(2);
    await index.idle();
    expect([w.woken, next.woken]).toEqual([[null], [null]]);
  });

  it('keeps a waiter indexed between its waits, by the interest it waits with now', async () => {
    const { index, commit } = setup();
    const w = { ...waiter(0, owner('u1')), after: 0 };
    index.add(w);
    await commit([null, { ownerId: 'u1' }]);
    expect([w.woken, index.size, index.indexedCount]).toEqual([[null], 0, 1]);
    // Not waiting: an entry that concerns it wakes it no more.
    await commit([null, { ownerId: 'u1' }]);
    expect(w.woken).toEqual([null]);
    // Waits again, now with another interest: only that one wakes it.
    Object.assign(w, { after: 2, interest: owner('u2') });
    index.add(w);
    await commit([null, { ownerId: 'u1' }]);
    expect(w.woken).toEqual([null]);
    await commit([null, { ownerId: 'u2' }]);
    expect([w.woken, index.indexedCount]).toEqual([[null, null], 1]);
    index.remove(w);
    expect([index.size, index.indexedCount]).toEqual([0, 0]);
  });

  it('reads nothing while no one waits', async () => {
    const { index, history } = setup();
    let reads = 0;
    const read = history.read.bind(history);
    history.read = (after, limit) => {
      reads += 1;
      return read(after, limit);
    };
    index.advance(1000);
    await index.idle();
    expect(reads).toBe(0);
    expect(index.checkedTo).toBe(1000);
  });

  it('stops reading once no one waits, though versions keep coming meanwhile', async () => {
    const { index, history } = setup();
    let reads = 0;
    let release = () => undefined as void;
    const gate = new Promise<void>((r) => (release = r));
    const read = history.read.bind(history);
    history.read = async (after, limit) => {
      reads += 1;
      await gate;
      return read(after, limit);
    };
    const w = waiter(0, owner('u1'));
    index.add(w);
    history.entries.push(entry(1, null, { ownerId: 'u2' }));
    index.advance(1);
    await new Promise((r) => setImmediate(r)); // its read is on its way
    expect(reads).toBe(1);
    index.remove(w); // the stream ended meanwhile
    for (let v = 2; v <= 50; v++) {
      history.entries.push(entry(v, null, { ownerId: 'u1' }));
      index.advance(v);
    }
    release();
    await index.idle();
    expect(reads).toBe(1);
    expect(index.checkedTo).toBe(50);
    // One arriving behind what was skipped reads for itself, as after any match.
    const late = waiter(10, owner('u1'));
    index.add(late);
    expect(late.woken).toEqual([null]);
  });
});
