/**
 * The SQLite store reads a user's share of a collection by index: a narrowed scan by
 * version uses the index of the read rule's field (collection, value at the path, version)
 * and does not read the collection, which EXPLAIN QUERY PLAN shows; a reopened file finds
 * its indexes again.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ScopeScans } from '../src/store/sqlite/scope-scan.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import type { ScopeCondition } from '../src/sync/scope-condition.js';

const OWNER: ScopeCondition = { path: 'ownerId', in: ['u1'] };

function plan(store: SqliteStore, where: ScopeCondition): string[] {
  const query = new ScopeScans(store.db).byVersionQuery('items', where, 0, 100, 10)!;
  const rows = store.db.prepare(`EXPLAIN QUERY PLAN ${query.sql}`).all(...query.params);
  return (rows as { detail: string }[]).map((r) => r.detail);
}

describe('a narrowed SQLite scan', () => {
  it('reads the rule index, one search per value, with the rest of the condition beside it', async () => {
    const store = new SqliteStore(':memory:');
    await store.ensureScopeIndexes([{ collection: null, path: 'ownerId' }]);
    const searches = (where: ScopeCondition) =>
      plan(store, where).filter((d) => d.startsWith('SEARCH documents'));
    const owner = searches(OWNER);
    // One branch for the value, one for documents with an array along the path.
    expect(owner).toHaveLength(2);
    for (const d of owner) {
      expect(d).toMatch(
        /USING INDEX documents_at_ownerId \(collection=\? AND <expr>=\? AND version>\? AND version<\?\)/,
      );
    }
    const narrowed = searches({ and: [OWNER, { path: 'status', in: ['open', 'done'] }] });
    expect(narrowed).toHaveLength(2);
    expect(narrowed.every((d) => d.includes('documents_at_ownerId'))).toBe(true);
    expect(plan(store, { path: 'status', in: ['open'] }).join()).toContain('documents_by_version');
    await store.close();
  });

  it('finds its indexes again in a reopened file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'scope-scan-'));
    const path = join(dir, 'sync.db');
    try {
      const first = new SqliteStore(path);
      await first.ensureScopeIndexes([{ collection: 'items', path: 'owner.id' }]);
      await first.close();
      const again = new SqliteStore(path);
      const owner = plan(again, { path: 'owner.id', in: ['u1'] });
      expect(owner.filter((d) => d.includes('USING INDEX documents_at_owner.id'))).toHaveLength(2);
      await again.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
