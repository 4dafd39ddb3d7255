/**
 * IndexedDbStorage in a real browser: Chromium's own IndexedDB and Web Locks, tabs of one
 * origin, reloads. The page loads client/src/indexeddb-storage.ts as it is (types stripped by
 * TypeScript, `idb` through an import map), so a Node import in it would fail here.
 * Needs Debian's Chromium at /usr/bin/chromium (CI installs it); skipped without it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IndexedDbStorage, StorageLockedError } from '../client/src/indexeddb-storage.js';
import type { StorageCommit } from '../client/src/storage.js';
// Not `meta`: Vite's SSR transform would rewrite the `meta` of `import.meta` as the import.
import { changeset, doc, meta as syncMeta } from './storage-contract.js';

const CHROMIUM = '/usr/bin/chromium';
const ROOT = resolve(import.meta.dirname, '..');

/** What the page puts on `globalThis` for the tests to call. */
interface PageGlobals {
  IndexedDbStorage: typeof IndexedDbStorage;
  StorageLockedError: typeof StorageLockedError;
  storageReady: boolean;
  held?: IndexedDbStorage;
}

const PAGE = `<!doctype html>
<script type="importmap">{ "imports": { "idb": "/idb/index.js" } }</script>
<script type="module">
  import { IndexedDbStorage, StorageLockedError } from '/client/indexeddb-storage.js';
  Object.assign(globalThis, { IndexedDbStorage, StorageLockedError, storageReady: true });
</script>`;

/** The page, the SDK's modules with their types stripped, and idb's build; nothing else. */
function serve(url: string): { type: string; body: string } | null {
  if (url === '/') return { type: 'text/html', body: PAGE };
  const client = /^\/client\/([a-z-]+)\.js$/.exec(url);
  if (client) {
    const source = readFileSync(join(ROOT, 'client/src', `${client[1]}.ts`), 'utf8');
    const options = { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 };
    const body = ts.transpileModule(source, { compilerOptions: options }).outputText;
    return { type: 'text/javascript', body };
  }
  const idb = /^\/idb\/([a-z-]+)\.js$/.exec(url);
  if (idb) {
    const body = readFileSync(join(ROOT, 'node_modules/idb/build', `${idb[1]}.js`), 'utf8');
    return { type: 'text/javascript', body };
  }
  return null;
}

let server: Server;
let base: string;
let browser: Browser | undefined;
let context: BrowserContext;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) return;
  server = createServer((request, response) => {
    const found = serve(request.url ?? '');
    response.writeHead(found ? 200 : 404, { 'content-type': found?.type ?? 'text/plain' });
    response.end(found?.body ?? 'not found');
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--no-first-run', '--disable-sync'],
  });
  context = await browser.newContext();
});

afterAll(async () => {
  await browser?.close();
  await new Promise((done) => server?.close(done));
});

/** A new tab of the origin, with the storage module loaded. */
async function tab(): Promise<Page> {
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(base);
  await ready(page, errors);
  return page;
}

async function ready(page: Page, errors: string[] = []): Promise<void> {
  await page.waitForFunction(() => (globalThis as unknown as PageGlobals).storageReady, null, {
    timeout: 10_000,
  });
  expect(errors).toEqual([]);
}

async function reload(page: Page): Promise<void> {
  await page.reload();
  await ready(page);
}

/** Claims a slot in the tab and keeps it open there; gives its name or the error's. */
function claim(page: Page, prefix: string): Promise<string> {
  return page.evaluate(async (prefix) => {
    const g = globalThis as unknown as PageGlobals;
    g.held = await g.IndexedDbStorage.claim(prefix);
    return g.held.name;
  }, prefix);
}

/** Opens database `name` in the tab and keeps it open; gives the error's fields if refused. */
function hold(page: Page, name: string) {
  return page.evaluate(async (name) => {
    const g = globalThis as unknown as PageGlobals;
    const storage = new g.IndexedDbStorage(name);
    try {
      await storage.load();
      g.held = storage;
      return null;
    } catch (e) {
      const error = e as InstanceType<PageGlobals['StorageLockedError']>;
      const locked = error instanceof g.StorageLockedError;
      return { locked, code: error.code, databaseName: error.databaseName, message: error.message };
    }
  }, name);
}

describe.skipIf(!existsSync(CHROMIUM))('IndexedDbStorage in Chromium', () => {
  it('keeps commits across a reload, and refuses whole a value the browser cannot clone', async () => {
    const page = await tab();
    const seed: StorageCommit = {
      meta: syncMeta({ clientVersion: 1 }),
      putDocs: [doc('c1'), doc('c2', 3)],
      putChangesets: [changeset(1)],
    };
    const refused = await page.evaluate(async (seed) => {
      const g = globalThis as unknown as PageGlobals;
      const storage = new g.IndexedDbStorage('durable');
      await storage.commit(seed);
      const bad = { meta: seed.meta, deleteDocs: ['cars/c1'], putDocs: [['cars/f', () => 1]] };
      const error = await storage.commit(bad as unknown as StorageCommit).catch((e: Error) => e);
      await storage.close();
      return (error as Error | undefined)?.name;
    }, seed);
    expect(refused).toBe('DataCloneError');
    await reload(page);
    const state = await page.evaluate(async () => {
      const storage = new (globalThis as unknown as PageGlobals).IndexedDbStorage('durable');
      return storage.load().finally(() => storage.close());
    });
    expect(state).toEqual({ meta: seed.meta, docs: seed.putDocs, changesets: seed.putChangesets });
    await page.close();
  });

  it('refuses a database to a second tab while the first has it open', async () => {
    const [first, second] = [await tab(), await tab()];
    expect(await hold(first, 'shared')).toBeNull();
    expect(await hold(second, 'shared')).toEqual({
      locked: true,
      code: 'STORAGE_LOCKED',
      databaseName: 'shared',
      message: 'IndexedDB database "shared" is open in another tab of this app',
    });
    await first.evaluate(() => (globalThis as unknown as PageGlobals).held?.close());
    expect(await hold(second, 'shared')).toBeNull();
    await first.close();
    await second.close();
  });

  it('claim() gives each tab its own slot, and a reloaded tab its slot again', async () => {
    const [one, two] = [await tab(), await tab()];
    expect(await claim(one, 'app')).toBe('app-1');
    expect(await claim(two, 'app')).toBe('app-2');
    await reload(one);
    expect(await claim(one, 'app')).toBe('app-1');
    const three = await tab();
    expect(await claim(three, 'app')).toBe('app-3');
    await two.close(); // a closed tab's slot is the first free one again
    expect(await claim(await tab(), 'app')).toBe('app-2');
  });
});
