/**
 * Bootstrap of one user's share of a large collection: 1,000,000 documents of 1,000 users
 * (1,000 each, interleaved in version order) in a fresh SQLite file, and one user's
 * bootstrap through the real gateway over a real graphql-ws socket, timed from the
 * subscription to its last batch. Floor: the same rows selected with better-sqlite3
 * directly, by the index the gateway reads (documents_at_ownerId).
 *
 *   npx tsx bench/bootstrap-scope.ts                 medians of 3 repetitions (after 1 uncounted)
 *   BENCH_BEFORE=1 npx tsx bench/bootstrap-scope.ts  also once with the store unnarrowed
 *                                                    (every page of the collection, as before)
 *
 * The file is seeded once per process with SQL matching src/store/sqlite/schema.ts (the
 * store has no import path of its own), its history compacted (the sequence at 1,000,000,
 * no entries), and indexed by the store's own ensureScopeIndexes, as a gateway does at start.
 */
import Database from 'better-sqlite3';
import { createClient, type Client } from 'graphql-ws';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import WebSocket from 'ws';
import { mintToken } from '../src/auth/jwt.js';
import { loadConfig } from '../src/config.js';
import { startGateway } from '../src/server/gateway.js';
import { valueAt } from '../src/store/sqlite/scope-sql.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { OWNER_RULES } from '../src/sync/permissions.js';
import { ruleIndexes } from '../src/sync/scope-pushdown.js';

const USERS = 1000;
const PER_USER = 1000;
const COLLECTION = 'cars';
const SECRET = 'bench-secret-bench-secret-bench-secret-0123';

export interface BootstrapScopeResult {
  /** From the `changes` subscription to the last batch of the bootstrap. */
  bootstrapMs: number;
  /** The same rows by one indexed SELECT with better-sqlite3. */
  floorMs: number;
  ratio: number;
}

/** Writes the documents (and the compacted history's sequence) in one transaction. */
function seedRows(path: string): void {
  const db = new Database(path);
  db.pragma('synchronous = OFF');
  const insert = db.prepare(
    'INSERT INTO documents (collection, id, state, doc, version) VALUES (?, ?, ?, ?, ?)',
  );
  const state = JSON.stringify({
    fields: {},
    ins: '2026-01-01T00:00:00.000Z-0000|seed|0',
    del: null,
  });
  db.transaction(() => {
    for (let version = 1; version <= USERS * PER_USER; version++) {
      const id = `car-${version}`;
      const doc = { _id: id, ownerId: `user${version % USERS}`, make: 'Kia', n: version };
      insert.run(COLLECTION, id, state, JSON.stringify(doc), version);
    }
    db.prepare("INSERT INTO sqlite_sequence (name, seq) VALUES ('history', ?)").run(
      USERS * PER_USER,
    );
  })();
  db.close();
}

let seeded: Promise<string> | null = null;

/** A fresh file with the schema, the rows and the rules' indexes; once per process. */
function seededFile(): Promise<string> {
  seeded ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-bootstrap-scope-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'gateway.sqlite');
    await new SqliteStore(path).close();
    seedRows(path);
    const store = new SqliteStore(path);
    await store.ensureScopeIndexes(ruleIndexes({ default: OWNER_RULES, collections: {} }));
    await store.close();
    return path;
  })();
  return seeded;
}

/** The SQLite store as it was before narrowing: every scan reads the whole collection. */
class UnnarrowedStore extends SqliteStore {
  override scanDocumentsByVersion(
    collections: readonly string[],
    afterVersion: number,
    upToVersion: number,
    limit: number,
  ) {
    return super.scanDocumentsByVersion(collections, afterVersion, upToVersion, limit);
  }
}

interface ChangesBatch {
  toServerVersion: number;
  bootstrapUntil: number | null;
  changes: { id: string }[];
}

function request(ws: Client, query: string, variables: Record<string, unknown>) {
  return new Promise<Record<string, unknown>>((resolve, reject) => {
    let data: Record<string, unknown> | undefined;
    ws.subscribe(
      { query, variables },
      {
        next: (r) => (r.errors ? reject(new Error(r.errors[0]!.message)) : (data = r.data!)),
        error: reject,
        complete: () => (data ? resolve(data) : reject(new Error('no result'))),
      },
    );
  });
}

const OPEN = `mutation ($input: OpenSessionInput!) { openSession(input: $input) { id } }`;
const CHANGES = `subscription ($s: ID!) { changes(sessionId: $s) {
  toServerVersion bootstrapUntil changes { serverVersion collection id op document } } }`;

/** Subscribes and resolves with the ms to the bootstrap's last batch and the documents it brought. */
function timeBootstrap(ws: Client, sessionId: string) {
  return new Promise<{ ms: number; documents: number }>((resolve, reject) => {
    let documents = 0;
    const start = performance.now();
    const stop = ws.subscribe(
      { query: CHANGES, variables: { s: sessionId } },
      {
        next: (r) => {
          if (r.errors) return reject(new Error(r.errors[0]!.message));
          const batch = (r.data as { changes: ChangesBatch }).changes;
          documents += batch.changes.length;
          if (batch.bootstrapUntil === null || batch.toServerVersion < batch.bootstrapUntil) return;
          resolve({ ms: performance.now() - start, documents });
          stop();
        },
        error: reject,
        complete: () => undefined,
      },
    );
  });
}

/** One user's bootstrap through the gateway on the seeded file. */
async function gatewayBootstrap(path: string, user: string, narrowed: boolean) {
  const config = loadConfig([], {
    PORT: '0',
    HOST: '127.0.0.1',
    JWT_SECRET: SECRET,
    DATA_DIR: join(path, '..'),
    USER_OPS_PER_SECOND: '0',
    CLIENT_CHANGESETS_PER_SECOND: '0',
    MAX_SOCKETS_PER_USER: '0',
  });
  const store = narrowed ? new SqliteStore(path) : new UnnarrowedStore(path);
  const gateway = await startGateway(config, { logger: pino({ level: 'silent' }), store });
  const ws = createClient({
    url: gateway.wsUrl,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    connectionParams: { authToken: await mintToken(SECRET, user) },
  });
  try {
    const input = {
      clientId: `bench-${user}-${Date.now()}`,
      queries: [{ collection: COLLECTION }],
    };
    const opened = (await request(ws, OPEN, { input })).openSession as { id: string };
    return await timeBootstrap(ws, opened.id);
  } finally {
    await ws.dispose();
    await gateway.close();
  }
}

/** The same rows by the same index, straight from better-sqlite3. */
function floorSelect(path: string, user: string): { ms: number; documents: number } {
  const db = new Database(path, { readonly: true });
  try {
    const select = db.prepare(
      `SELECT * FROM documents INDEXED BY "documents_at_ownerId" WHERE collection = ?
       AND ${valueAt('ownerId')} = ? AND doc IS NOT NULL ORDER BY version`,
    );
    const start = performance.now();
    const rows = select.all(COLLECTION, user);
    return { ms: performance.now() - start, documents: rows.length };
  } finally {
    db.close();
  }
}

function checkCount(what: string, documents: number): void {
  if (documents !== PER_USER) throw new Error(`${what}: ${documents} documents, not ${PER_USER}`);
}

/** One repetition: a random user's bootstrap and the floor's select of the same rows. */
export async function benchBootstrapScope(narrowed = true): Promise<BootstrapScopeResult> {
  const path = await seededFile();
  const user = `user${Math.floor(Math.random() * USERS)}`;
  const boot = await gatewayBootstrap(path, user, narrowed);
  checkCount('bootstrap', boot.documents);
  const floor = floorSelect(path, user);
  checkCount('floor', floor.documents);
  return { bootstrapMs: boot.ms, floorMs: floor.ms, ratio: boot.ms / floor.ms };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  // One repetition first, not counted: a serving gateway has its code compiled (the first
  // bootstrap in a process takes about 4x longer, JIT and statement preparation included).
  await benchBootstrapScope();
  const reps: BootstrapScopeResult[] = [];
  for (let i = 0; i < 3; i++) reps.push(await benchBootstrapScope());
  const show = (r: BootstrapScopeResult) =>
    `bootstrap ${r.bootstrapMs.toFixed(1)} ms, floor ${r.floorMs.toFixed(2)} ms, ratio ${r.ratio.toFixed(1)}x`;
  console.log(
    `bootstrap of 1,000 of 1,000,000 documents (medians of 3): ${show({
      bootstrapMs: median(reps.map((r) => r.bootstrapMs)),
      floorMs: median(reps.map((r) => r.floorMs)),
      ratio: median(reps.map((r) => r.ratio)),
    })}`,
  );
  if (process.env.BENCH_BEFORE === '1') {
    console.log(`unnarrowed (before), once: ${show(await benchBootstrapScope(false))}`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
