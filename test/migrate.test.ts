/**
 * `sync-gateway migrate`: a deployment made by a real gateway on a SQLite file is read page
 * by page from one snapshot and copied whole. The copy into MongoDB runs when
 * test/setup/mongodb.ts found a replica set; the reading side, the copy loop and the
 * command's failures are tested here in any case.
 */
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseMigrateArgs } from '../src/migrate-command.js';
import { migrate, MigrationError, type ImportTarget } from '../src/store/migrate.js';
import type { MigrationProgress } from '../src/store/migrate.js';
import { MongoImport } from '../src/store/mongodb/mongo-import.js';
import { MongoStore } from '../src/store/mongodb/mongo-store.js';
import { SqliteSource } from '../src/store/sqlite/sqlite-source.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import type { HistoryEntry, SessionRecord, StoredDocument } from '../src/sync/model.js';
import { REPO } from './helpers/child-gateway.js';
import { startTestGateway } from './helpers/gateway.js';
import { SyncTestClient } from './helpers/sync-client.js';

const uri = inject('mongodbUri');

let dataDir = '';
let file = '';

/** Two users' clients make, change and delete documents through a real gateway on a file. */
beforeAll(async () => {
  const gw = await startTestGateway({ file: true });
  dataDir = gw.dataDir;
  file = join(dataDir, 'gateway.sqlite');
  for (const user of ['alice', 'bob']) {
    const client = new SyncTestClient(gw.ws(await gw.token(user)), `${user}-phone`);
    await client.open([{ collection: 'cars', filter: { ownerId: user } }]);
    const upload = async (change: Parameters<typeof client.upload>[0][number]) => {
      const result = await client.upload([change]);
      expect(result.data?.uploadChanges.compensatingWrites).toEqual([]);
    };
    for (let i = 0; i < 4; i++) {
      const document = { ownerId: user, make: `make ${i}`, tags: ['a', { deep: i }] };
      await upload({ collection: 'cars', id: `${user}-${i}`, op: 'INSERT', document });
    }
    await upload({ collection: 'cars', id: `${user}-1`, op: 'UPDATE', set: { make: 'x' } });
    await upload({ collection: 'cars', id: `${user}-2`, op: 'DELETE' });
    await upload({
      collection: 'notes',
      id: `${user}-n`,
      op: 'INSERT',
      document: { ownerId: user },
    });
  }
  // Alice's session has changed its queries once (a queries version to copy).
  const alice = new SyncTestClient(gw.ws(await gw.token('alice')), 'alice-phone');
  await alice.open([{ collection: 'notes', filter: { ownerId: 'alice' } }]);
  await gw.close();
});

afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** Everything a store holds, read through the store port. */
async function contents(store: SqliteStore | MongoStore) {
  const sessions = await store.listSessions({ limit: 1000 });
  const history = await store.readHistory(0, 1000);
  const keys = [...new Map(history.map((h) => [`${h.collection}/${h.id}`, h])).values()];
  const documents = await store.getDocuments(keys);
  return { sessions: sessions.sessions, history, documents, latest: await store.latestVersion() };
}

/** An import target that keeps what it is given, to watch the copy loop. */
class RecordingTarget implements ImportTarget {
  sessions: SessionRecord[] = [];
  documents: StoredDocument[] = [];
  history: HistoryEntry[] = [];
  pages: number[] = [];
  finished: number | null = null;
  begin = () => Promise.resolve('fresh' as const);
  putSessions = (rows: readonly SessionRecord[]) => this.put(this.sessions, rows);
  putDocuments = (rows: readonly StoredDocument[]) => this.put(this.documents, rows);
  putHistory = (rows: readonly HistoryEntry[]) => this.put(this.history, rows);
  finish = (lastVersion: number) => {
    this.finished = lastVersion;
    return Promise.resolve();
  };
  private put<T>(into: T[], rows: readonly T[]) {
    this.pages.push(rows.length);
    into.push(...rows);
    return Promise.resolve();
  }
}

describe('reading a SQLite deployment for migration', () => {
  it('copies every session, document and history entry, page by page, in key order', async () => {
    const store = new SqliteStore(file);
    const expected = await contents(store);
    const allDocuments = await store.scanDocuments('cars', '', 100);
    await store.close();
    const source = SqliteSource.open(file);
    const target = new RecordingTarget();
    const progress: MigrationProgress[] = [];
    const report = await migrate(source, target, {
      pageSize: 3,
      onProgress: (p) => progress.push(p),
    });
    source.close();

    expect(target.sessions).toEqual(expected.sessions);
    const versions = target.sessions.map((s) => [s.clientId, s.queriesVersion]);
    expect(versions.sort()).toEqual([
      ['alice-phone', 1],
      ['bob-phone', 0],
    ]);
    expect(target.history).toEqual(expected.history);
    expect(target.history.map((h) => h.version)).toEqual(expected.history.map((_, i) => i + 1));
    // Deleted documents are copied too: their mergeable state keeps the delete's stamp.
    const deleted = target.documents.filter((d) => d.doc === null).map((d) => d.id);
    expect(deleted).toEqual(['alice-2', 'bob-2']);
    expect(target.documents.filter((d) => d.collection === 'cars' && d.doc)).toEqual(allDocuments);
    expect(target.documents).toHaveLength(10);
    expect(Math.max(...target.pages)).toBeLessThanOrEqual(3);
    expect(report).toEqual({
      start: 'fresh',
      copied: { sessions: 2, documents: 10, history: expected.history.length },
      lastVersion: expected.latest,
    });
    expect(target.finished).toBe(expected.latest);
    expect(progress.at(-1)).toEqual({ stage: 'history', done: 14, total: 14 });
    expect(progress.filter((p) => p.stage === 'documents').map((p) => p.done)).toEqual([
      0, 3, 6, 9, 10,
    ]);
  });

  it('reads from one snapshot while a gateway keeps writing to the file', async () => {
    const source = SqliteSource.open(file);
    const before = await source.counts();
    const store = new SqliteStore(file);
    const now = new Date().toISOString();
    await store.openSession({
      ...(await store.listSessions({ limit: 1 })).sessions[0]!,
      id: 'late-session',
      clientId: 'late-client',
      createdAt: now,
    });
    expect(await source.counts()).toEqual(before);
    expect((await source.sessions('', 100)).map((s) => s.id)).not.toContain('late-session');
    source.close();
    const after = SqliteSource.open(file);
    expect((await after.counts()).sessions).toBe(before.sessions + 1);
    after.close();
    await store.close();
  });

  it('keeps the last server version handed out when the history was compacted', async () => {
    const copy = join(dataDir, 'compacted.sqlite');
    const store = new SqliteStore(file);
    await store.close();
    const db = new Database(file, { readonly: true });
    await db.backup(copy);
    db.close();
    const compacted = new SqliteStore(copy);
    const latest = await compacted.latestVersion();
    expect(await compacted.compactHistory('9999-01-01T00:00:00.000Z')).toBe(latest);
    await compacted.close();
    const source = SqliteSource.open(copy);
    expect(await source.lastVersion()).toBe(latest);
    const report = await migrate(source, new RecordingTarget());
    expect(report.copied.history).toBe(0);
    expect(report.lastVersion).toBe(latest);
    source.close();
  });

  it('refuses a missing file and a SQLite file that is not a gateway store', () => {
    expect(() => SqliteSource.open(join(dataDir, 'nope.sqlite'))).toThrow(
      new MigrationError(`--from: no SQLite file at ${join(dataDir, 'nope.sqlite')}`),
    );
    const other = join(dataDir, 'other.sqlite');
    new Database(other).exec('CREATE TABLE sessions (id TEXT)').close();
    expect(() => SqliteSource.open(other)).toThrow(
      /is not a sync gateway store \(no documents, history table\)/,
    );
  });
});

describe('the migrate command', () => {
  it('takes its defaults from the gateway settings, and needs a MongoDB URI', () => {
    const env = { DATA_DIR: '/d', MONGODB_URI: 'mongodb://h/?replicaSet=rs0' };
    expect(parseMigrateArgs([], env)).toEqual({
      from: '/d/gateway.sqlite',
      to: 'mongodb://h/?replicaSet=rs0',
      db: 'sync_gateway',
    });
    expect(
      parseMigrateArgs(['--from', 'a.sqlite', '--to', 'mongodb+srv://c', '--db', 'x'], {}),
    ).toEqual({
      from: 'a.sqlite',
      to: 'mongodb+srv://c',
      db: 'x',
    });
    expect(() => parseMigrateArgs([], { SQLITE_FILE: 'f' })).toThrow(/--to \/ MONGODB_URI/);
  });

  it('says in one line what is wrong and exits 1', () => {
    const missing = join(dataDir, 'missing.sqlite');
    const run = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli.ts',
        'migrate',
        '--from',
        missing,
        '--to',
        'mongodb://127.0.0.1:1',
      ],
      { cwd: REPO, encoding: 'utf8' },
    );
    expect(run.status).toBe(1);
    expect(run.stderr.trim()).toBe(`cannot migrate: --from: no SQLite file at ${missing}`);
  });
});

if (uri) {
  describe('migrating into MongoDB', () => {
    const admin = new MongoClient(uri);
    const dbName = `sync_migrate_${process.pid}_${Date.now().toString(36)}`;
    afterAll(async () => {
      await admin.db(dbName).dropDatabase();
      await admin.close();
    });

    it('resumes an interrupted copy, which the gateway refuses to serve until finished', async () => {
      const partial = await MongoImport.connect(uri, dbName);
      await partial.begin(file, new Date().toISOString());
      await partial.close();
      await expect(MongoStore.connect(uri, { dbName })).rejects.toThrow(/unfinished copy from/);

      const source = SqliteSource.open(file);
      const target = await MongoImport.connect(uri, dbName);
      const report = await migrate(source, target, { pageSize: 4 });
      await target.close();
      source.close();
      expect(report.start).toBe('resumed');

      const sqlite = new SqliteStore(file);
      const mongo = await MongoStore.connect(uri, { dbName });
      const [from, to] = [await contents(sqlite), await contents(mongo)];
      expect(to).toEqual(from);
      const plain = await admin.db(dbName).collection('cars').find().sort({ _id: 1 }).toArray();
      expect(plain.map((d) => d._id)).toEqual([
        'alice-0',
        'alice-1',
        'alice-3',
        'bob-0',
        'bob-1',
        'bob-3',
      ]);
      await Promise.all([sqlite.close(), mongo.close()]);
    });

    it('refuses a database that holds data', async () => {
      const source = SqliteSource.open(file);
      const target = await MongoImport.connect(uri, dbName);
      await admin.db(dbName).collection('__sync_migrations').deleteMany({});
      await expect(migrate(source, target)).rejects.toThrow(/is not empty/);
      await target.close();
      source.close();
    });
  });
} else {
  describe.skip(`migrating into MongoDB (skipped: ${inject('mongodbSkipReason')})`, () => {
    it('copies, resumes and refuses a non-empty database', () => {});
  });
}
