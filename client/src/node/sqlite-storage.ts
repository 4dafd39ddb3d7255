/**
 * Node's storage for databases of any size: one SQLite file in WAL mode, a table each for
 * documents, changesets and the sync position, and one transaction per commit, so a write
 * costs in proportion to what it changes. better-sqlite3 is synchronous: commits apply in
 * call order, and a commit's promise settles once its transaction has.
 *
 * One process at a time: two storages writing the same file would each number changesets
 * from their own copy of the state.
 */
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type Database from 'better-sqlite3';
import type {
  Storage,
  StorageCommit,
  StoredChangeset,
  StoredDoc,
  StoredState,
  SyncMeta,
} from '../storage.js';

export interface SqliteStorageOptions {
  /**
   * `'FULL'` (the default): a commit is on disk when its promise resolves, and survives a power
   * loss. `'NORMAL'`: cheaper; a commit survives a crash of the process, but a power loss may
   * lose the last commits (never corrupting the file).
   */
  synchronous?: 'FULL' | 'NORMAL';
}

/** The layout of the file, in `PRAGMA user_version`: a newer SDK may move it on, never back. */
const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS documents (
  key TEXT PRIMARY KEY, doc TEXT NOT NULL, gen INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS changesets (
  client_version INTEGER PRIMARY KEY, changeset TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meta (id INTEGER PRIMARY KEY CHECK (id = 1), meta TEXT NOT NULL);`;

type DocRow = [key: string, doc: string, gen: number];

/**
 * better-sqlite3 is an optional peer of the SDK: loaded when a SqliteStorage is made, so an
 * app without it can still use the rest of `@graphql-sync-gateway/client/node`.
 */
function loadDriver(): typeof Database {
  try {
    return createRequire(import.meta.url)('better-sqlite3') as typeof Database;
  } catch (error) {
    const message = 'SqliteStorage needs better-sqlite3: npm install better-sqlite3';
    throw new Error(message, { cause: error });
  }
}

export class SqliteStorage implements Storage {
  private readonly db: Database.Database;
  private readonly apply: (commit: StorageCommit) => void;
  private readonly read: () => StoredState | null;

  /** Opens (or creates) the database file at `path`, and the folders leading to it. */
  constructor(
    readonly path: string,
    options: SqliteStorageOptions = {},
  ) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    const Driver = loadDriver();
    this.db = new Driver(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${options.synchronous ?? 'FULL'}`);
    ensureSchema(this.db, path);
    this.apply = this.db.transaction(writer(this.db));
    this.read = this.db.transaction(reader(this.db));
  }

  async load(): Promise<StoredState | null> {
    return this.read();
  }

  async commit(commit: StorageCommit): Promise<void> {
    this.apply(commit);
  }

  /** Closes the file; later commits are refused. */
  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

function ensureSchema(db: Database.Database, path: string): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION)
    throw new Error(`${path} has layout ${version}: written by a newer SDK than this one`);
  db.exec(SCHEMA);
  db.pragma(`user_version = ${SCHEMA_VERSION}`);
}

/** The body of a commit's transaction, with its statements prepared once. */
function writer(db: Database.Database): (commit: StorageCommit) => void {
  const putDoc = db.prepare('INSERT OR REPLACE INTO documents (key, doc, gen) VALUES (?, ?, ?)');
  const deleteDoc = db.prepare('DELETE FROM documents WHERE key = ?');
  const putChangeset = db.prepare(
    'INSERT OR REPLACE INTO changesets (client_version, changeset) VALUES (?, ?)',
  );
  const deleteChangeset = db.prepare('DELETE FROM changesets WHERE client_version = ?');
  const putMeta = db.prepare('INSERT OR REPLACE INTO meta (id, meta) VALUES (1, ?)');
  return (commit) => {
    for (const key of commit.deleteDocs ?? []) deleteDoc.run(key);
    for (const [key, { doc, gen }] of commit.putDocs ?? []) putDoc.run(key, json(doc), gen);
    for (const version of commit.deleteChangesets ?? []) deleteChangeset.run(version);
    for (const cs of commit.putChangesets ?? []) putChangeset.run(cs.clientVersion, json(cs));
    putMeta.run(json(commit.meta));
  };
}

/** Reads the whole state in one transaction, so it is one moment's state. */
function reader(db: Database.Database): () => StoredState | null {
  const meta = db.prepare('SELECT meta FROM meta WHERE id = 1').pluck();
  const docs = db.prepare('SELECT key, doc, gen FROM documents').raw();
  const changesets = db.prepare('SELECT changeset FROM changesets ORDER BY client_version').pluck();
  return () => {
    const text = meta.get() as string | undefined;
    if (text === undefined) return null;
    return {
      meta: JSON.parse(text) as SyncMeta,
      docs: (docs.all() as DocRow[]).map(([key, doc, gen]): [string, StoredDoc] => [
        key,
        { doc: JSON.parse(doc) as StoredDoc['doc'], gen },
      ]),
      changesets: (changesets.all() as string[]).map((cs) => JSON.parse(cs) as StoredChangeset),
    };
  };
}

/** JSON text of a value, refusing what JSON cannot hold (rather than storing `undefined`). */
function json(value: unknown): string {
  const text = JSON.stringify(value);
  if (typeof text !== 'string') throw new TypeError(`cannot store ${String(value)} as JSON`);
  return text;
}
