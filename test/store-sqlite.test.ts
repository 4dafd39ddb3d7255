/** The store contract (test/store-contract.ts) against the SQLite adapter. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { storeContract, type StoreUnderTest } from './store-contract.js';

storeContract('SQLite :memory:', async () => {
  const store = new SqliteStore(':memory:');
  return { store, cleanup: () => store.close() };
});

storeContract('SQLite file', async (): Promise<StoreUnderTest> => {
  const dir = mkdtempSync(join(tmpdir(), 'store-contract-'));
  const path = join(dir, 'sub', 'sync.db');
  let current = new SqliteStore(path);
  return {
    store: current,
    reopen: async () => {
      await current.close();
      current = new SqliteStore(path);
      return current;
    },
    cleanup: async () => {
      await current.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
