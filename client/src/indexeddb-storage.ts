/**
 * The browser's storage: one IndexedDB database with a store each for documents, changesets
 * and the sync position; each commit is one readwrite transaction over the three, resolved
 * when the transaction completes (durable then; `durability: 'strict'` where supported).
 *
 * Two tabs must never write one database: each would number changesets from its own copy of
 * the state. So while open, a storage holds the exclusive Web Lock `indexeddb-storage:<name>`;
 * a second open of the same name fails with StorageLockedError. Where the platform has no
 * Web Locks there is no lock. `IndexedDbStorage.claim` gives each tab a free slot of its own.
 *
 * Browser code: nothing here may import from Node.
 */
import { openDB, unwrap, type DBSchema, type IDBPDatabase, type IDBPTransaction } from 'idb';
import { SyncClientError } from './errors.js';
import type {
  Storage,
  StorageCommit,
  StoredChangeset,
  StoredDoc,
  StoredState,
  SyncMeta,
} from './storage.js';

interface Schema extends DBSchema {
  /** Keyed by the document's key (`collection/id`). */
  documents: { key: string; value: StoredDoc };
  changesets: { key: number; value: StoredChangeset };
  /** One record, under META_KEY. */
  meta: { key: string; value: SyncMeta };
}

type Db = IDBPDatabase<Schema>;
type WriteTx = IDBPTransaction<Schema, typeof STORES, 'readwrite'>;

const STORES = ['documents', 'changesets', 'meta'] as const;
const META_KEY = 'meta';
const VERSION = 1;

/** Another tab (or window, or worker) of this origin has the database open. */
export class StorageLockedError extends SyncClientError {
  constructor(
    /** The database's name (for `claim`: the prefix of its slots). */
    readonly databaseName: string,
    message = `IndexedDB database "${databaseName}" is open in another tab of this app`,
  ) {
    super('STORAGE_LOCKED', message);
    this.name = 'StorageLockedError';
  }
}

export class IndexedDbStorage implements Storage {
  private db: Promise<Db> | null = null;
  private release: (() => void) | null = null;
  private closed = false;

  /** The storage of database `name`; it is opened (and locked) by the first `load`. */
  constructor(readonly name: string) {}

  /**
   * Opens the first free slot `${prefix}-1`, `${prefix}-2`, … up to `max`: each tab of the
   * origin gets its own, and the lowest free one again after a reload. Derive the clientId
   * from `storage.name`, so a slot's data always belongs to the same client.
   */
  static async claim(prefix: string, max = 8): Promise<IndexedDbStorage> {
    for (let slot = 1; slot <= max; slot += 1) {
      const storage = new IndexedDbStorage(`${prefix}-${slot}`);
      try {
        await storage.open();
        return storage;
      } catch (error) {
        if (!(error instanceof StorageLockedError)) throw error;
      }
    }
    const message = `every slot of "${prefix}" (${prefix}-1 to ${prefix}-${max}) is open in another tab`;
    throw new StorageLockedError(prefix, message);
  }

  async load(): Promise<StoredState | null> {
    const tx = (await this.open()).transaction(STORES, 'readonly');
    const docs = tx.objectStore('documents');
    const [meta, keys, values, changesets] = await Promise.all([
      tx.objectStore('meta').get(META_KEY),
      docs.getAllKeys(),
      docs.getAll(),
      tx.objectStore('changesets').getAll(),
      tx.done,
    ]);
    if (!meta) return null;
    // Both lists come in key order from one transaction, so they pair up.
    return { meta, docs: keys.map((key, i) => [key, values[i]!]), changesets };
  }

  async commit(commit: StorageCommit): Promise<void> {
    const db = await this.open();
    // Transactions over the same stores run in the order they are made: the call order.
    const tx = db.transaction(STORES, 'readwrite', { durability: 'strict' });
    try {
      write(tx, commit);
    } catch (error) {
      // A value the browser cannot clone throws here; the puts before it must not commit.
      tx.abort();
      await tx.done.catch(() => undefined);
      throw error;
    }
    await tx.done;
  }

  /** Closes the database and lets go of its lock; later commits are refused. */
  async close(): Promise<void> {
    this.closed = true;
    const db = await this.db?.catch(() => null);
    db?.close();
    this.release?.();
    this.release = null;
  }

  /** The open database, opened (and locked) on first use. */
  private open(): Promise<Db> {
    if (this.closed) return Promise.reject(new Error(`IndexedDB storage "${this.name}" is closed`));
    this.db ??= this.connect().catch((error: unknown) => {
      this.db = null; // a later load may find the lock free
      throw error;
    });
    return this.db;
  }

  private async connect(): Promise<Db> {
    const release = await holdLock(this.name);
    try {
      const db = await openDB<Schema>(this.name, VERSION, {
        upgrade: (db) => createStores(db),
        // A newer SDK or a deletion elsewhere waits on us: give way (our commits then fail).
        blocking: () => db.close(),
      });
      this.release = release;
      return db;
    } catch (error) {
      release?.();
      throw error;
    }
  }
}

function createStores(db: Db): void {
  db.createObjectStore('documents');
  db.createObjectStore('changesets', { keyPath: 'clientVersion' });
  db.createObjectStore('meta');
}

/**
 * Queues a commit's writes on `tx`. Through the unwrapped stores: a failed request fails the
 * transaction, which `tx.done` reports, instead of a promise per request left unhandled.
 */
function write(tx: WriteTx, commit: StorageCommit): void {
  const docs = unwrap(tx.objectStore('documents'));
  const changesets = unwrap(tx.objectStore('changesets'));
  for (const key of commit.deleteDocs ?? []) docs.delete(key);
  for (const [key, doc] of commit.putDocs ?? []) docs.put(doc, key);
  for (const version of commit.deleteChangesets ?? []) changesets.delete(version);
  for (const cs of commit.putChangesets ?? []) changesets.put(cs);
  unwrap(tx.objectStore('meta')).put(commit.meta, META_KEY);
}

/** The Web Locks API where the platform has it (browsers, workers), as far as we use it. */
interface LockManagerLike {
  request(
    name: string,
    options: { ifAvailable: boolean },
    callback: (lock: unknown) => Promise<void> | void,
  ): Promise<unknown>;
}

/**
 * Takes the exclusive lock of database `name` if it is free, and holds it until the returned
 * function is called; null where there are no Web Locks. Fails with StorageLockedError if
 * another holder has it.
 */
function holdLock(name: string): Promise<(() => void) | null> {
  const { navigator } = globalThis as { navigator?: { locks?: LockManagerLike } };
  const locks = navigator?.locks;
  if (!locks) return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    locks
      .request(`indexeddb-storage:${name}`, { ifAvailable: true }, (lock) => {
        if (!lock) return reject(new StorageLockedError(name));
        return new Promise<void>((release) => resolve(() => release()));
      })
      .catch(reject);
  });
}
