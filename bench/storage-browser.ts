/**
 * `npm run bench:storage` in a real browser: what one `LocalDatabase.write` on IndexedDbStorage
 * costs until its transaction is complete, in headless Chromium, with 10k and then 100k
 * documents stored (preloaded as a bootstrap would, through `applyBatch`).
 *
 * Beside each write, a floor: one bare IndexedDB `put` in its own readwrite transaction
 * (`durability: 'strict'`, as the storage's commits) on a store of its own in the same
 * database, timed just before the write, so both see the same disk and CPU.
 *
 * This file is also the page's script: esbuild bundles it for the browser with the Node-only
 * modules stubbed out. So the page half (`measureInPage` and below) uses only the SDK and the
 * DOM, and nothing at the top level may call into Node.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { chromium, type Page } from 'playwright-core';
import { IndexedDbStorage } from '../client/src/indexeddb-storage.js';
import { LocalDatabase, type DownloadBatch } from '../client/src/local-database.js';

export const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
const CLIENT = 'bench-client';
const PAGE = 5000;
const FLOOR = 'floor';

export interface IndexedDbRun {
  docs: number;
  writes: number;
  warmup: number;
}

export interface IndexedDbResult {
  docs: number;
  openMs: number;
  times: number[];
  floorTimes: number[];
}

// ---- Node: the server, the browser, the runs ----

/**
 * Measures each size in turn in one headless Chromium; also gives the browser's version. On a
 * profile on disk: `browser.newPage()` would open an incognito context, whose IndexedDB is
 * kept in memory.
 */
export async function benchIndexedDb(
  sizes: number[],
  writes: number,
  warmup: number,
): Promise<{ version: string; results: IndexedDbResult[] }> {
  const server = await serve(await bundle());
  const profile = mkdtempSync(join(tmpdir(), 'bench-chromium-'));
  const options = { executablePath: CHROMIUM, args: ARGS };
  const context = await chromium.launchPersistentContext(profile, options);
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto(server.url);
    await checkReady(page);
    const results: IndexedDbResult[] = [];
    for (const docs of sizes) results.push(await inPage(page, { docs, writes, warmup }));
    return { version: context.browser()?.version() ?? 'unknown', results };
  } finally {
    await context.close();
    server.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

/** What the page's module script puts on `globalThis`. */
interface PageGlobals {
  bench?: { measureInPage: typeof measureInPage };
}

function inPage(page: Page, run: IndexedDbRun): Promise<IndexedDbResult> {
  return page.evaluate((run) => (globalThis as PageGlobals).bench!.measureInPage(run), run);
}

/** Without cross-origin isolation Chromium coarsens `performance.now()` to 100 µs. */
async function checkReady(page: Page): Promise<void> {
  const ready = await page.evaluate(() => [crossOriginIsolated, 'bench' in globalThis]);
  if (!ready.every(Boolean)) throw new Error(`page not ready (isolated, loaded): ${ready}`);
}

const HTML = `<!doctype html>
<script type="module">
  import * as bench from '/bench.js';
  globalThis.bench = bench;
</script>`;

/** COOP and COEP make the page cross-origin isolated: `performance.now()` then ticks in 5 µs. */
const HEADERS = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
};

/** Serves the page and its script on 127.0.0.1 (IndexedDB needs a real origin). */
async function serve(script: string): Promise<{ url: string; close(): void }> {
  const server = createServer((request, response) => {
    const js = request.url === '/bench.js';
    response.writeHead(200, { ...HEADERS, 'content-type': js ? 'text/javascript' : 'text/html' });
    response.end(js ? script : HTML);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, close: () => server.close() };
}

/** Stands in for the Node-only modules in the page's bundle (the page never calls them). */
const nodeOnly: Plugin = {
  name: 'node-only',
  setup(build) {
    const filter = /^(node:.*|esbuild|playwright-core)$/;
    build.onResolve({ filter }, ({ path }) => ({ path, namespace: 'node-only' }));
    build.onLoad({ filter: /.*/, namespace: 'node-only' }, () => ({
      contents: 'module.exports = {}',
    }));
  },
};

/** This file bundled for the browser, with the SDK's sources. */
async function bundle(): Promise<string> {
  const { outputFiles } = await build({
    entryPoints: [fileURLToPath(import.meta.url)],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    logLevel: 'warning',
    plugins: [nodeOnly],
  });
  return outputFiles[0]!.text;
}

// ---- The page: the SDK on IndexedDbStorage, and the floor ----

/** Preloads database `bench-<docs>`, opens the SDK on it anew and times writes and floors. */
export async function measureInPage(run: IndexedDbRun): Promise<IndexedDbResult> {
  const name = `bench-${run.docs}`;
  const floor = await openWithFloor(name);
  await preload(name, run.docs);
  const storage = new IndexedDbStorage(name);
  const start = performance.now();
  const db = await LocalDatabase.open({ clientId: CLIENT, storage });
  const openMs = performance.now() - start;
  const [times, floorTimes] = await timeWrites(db, floor, run);
  await storage.close();
  floor.close();
  await settle(indexedDB.deleteDatabase(name));
  return { docs: run.docs, openMs, times, floorTimes };
}

async function timeWrites(db: LocalDatabase, floor: IDBDatabase, run: IndexedDbRun) {
  const [times, floorTimes]: [number[], number[]] = [[], []];
  for (let i = 0; i < run.warmup + run.writes; i += 1) {
    const floorMs = await putOnce(floor, i);
    const id = `c${(i * 7919) % run.docs}`; // spread over the documents, as on Node
    const t0 = performance.now();
    await db.write((tx) => tx.update('cars', id, { n: -i }));
    if (i < run.warmup) continue;
    times.push(performance.now() - t0);
    floorTimes.push(floorMs);
  }
  return [times, floorTimes] as const;
}

const carDoc = (i: number) => ({ _id: `c${i}`, make: 'Kia', ownerId: `user-${i % 50}`, n: i });

/** Stores `count` documents as one bootstrap of `PAGE`-document batches, then closes. */
async function preload(name: string, count: number): Promise<void> {
  const storage = new IndexedDbStorage(name);
  const db = await LocalDatabase.open({ clientId: CLIENT, storage });
  for (let from = 0; from < count; from += PAGE) {
    const to = Math.min(count, from + PAGE);
    const changes: DownloadBatch['changes'] = [];
    for (let i = from; i < to; i += 1)
      changes.push({ collection: 'cars', id: `c${i}`, op: 'UPSERT', document: carDoc(i) });
    const batch = { fromServerVersion: from, toServerVersion: to, bootstrapUntil: count };
    await db.applyBatch({ ...batch, queriesVersion: 1, changes });
  }
  await storage.close();
}

/**
 * Creates the database with the stores IndexedDbStorage's createStores makes (keep them
 * alike), at its version 1 so it opens without an upgrade, and the floor's store; keeps this
 * connection for the floor.
 */
function openWithFloor(name: string): Promise<IDBDatabase> {
  const request = indexedDB.open(name, 1);
  request.onupgradeneeded = () => {
    const db = request.result;
    db.createObjectStore('documents');
    db.createObjectStore('changesets', { keyPath: 'clientVersion' });
    db.createObjectStore('meta');
    db.createObjectStore(FLOOR);
  };
  return settle(request);
}

/** The floor: one small put in its own strict readwrite transaction; ms until complete. */
function putOnce(db: IDBDatabase, n: number): Promise<number> {
  const value = { clientVersion: n, changes: [{ id: 'c1', set: { n } }] };
  const start = performance.now();
  const tx = db.transaction(FLOOR, 'readwrite', { durability: 'strict' });
  tx.objectStore(FLOOR).put(value, n);
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve(performance.now() - start);
    tx.onerror = tx.onabort = () => reject(tx.error);
  });
}

function settle<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}
