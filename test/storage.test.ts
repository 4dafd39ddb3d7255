/** The storage contract (test/storage-contract.ts) against MemoryStorage and FileStorage. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStorage } from '../client/src/file-storage.js';
import { MemoryStorage } from '../client/src/storage.js';
import { storageContract } from './storage-contract.js';

storageContract('MemoryStorage', async () => {
  const storage = new MemoryStorage();
  // Nothing to close. It keeps documents as given (memory holds anything): only an
  // uncloneable changeset or meta is refused, and then whole.
  return {
    storage,
    another: async () => storage,
    refusesUnstorable: false,
    cleanup: async () => {},
  };
});

storageContract('FileStorage', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'storage-file-'));
  const path = join(dir, 'sub', 'db.json');
  const storage = new FileStorage(path);
  return {
    storage,
    another: async () => new FileStorage(path),
    refusesUnstorable: true,
    cleanup: async () => {
      await storage.flush().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
