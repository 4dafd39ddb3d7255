/**
 * The example to-do app (examples/todo: the SDK, its React hooks, IndexedDbStorage, a
 * service worker; bundled with esbuild) in real Chromium on a profile on disk, two tabs
 * against a real gateway in development mode: a write made offline in one tab survives a
 * reload and a browser restart while still offline, syncs once the network is back, and
 * shows in the other tab; both tabs end equal to the server. The gateway is reached through
 * a fault proxy, so "offline" really cuts the socket.
 * Needs Debian's Chromium at /usr/bin/chromium (CI installs it).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTodo } from '../examples/todo/build.js';
import { serveStatic } from '../examples/todo/serve.js';
import { loadConfig } from '../src/config.js';
import { startGateway, type Gateway } from '../src/server/gateway.js';
import { startFaultProxy, type FaultProxy } from './helpers/fault-proxy.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

let dir: string;
let gateway: Gateway;
let proxy: FaultProxy;
let site: Server;
let profile: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'todo-example-'));
  const env = { PORT: '0', HOST: '127.0.0.1', DATA_DIR: dir, SQLITE_FILE: ':memory:' };
  gateway = await startGateway(loadConfig([], env), { logger: pino({ level: 'silent' }) });
  proxy = await startFaultProxy({ upstreamPort: gateway.port });
  site = await serveStatic(await buildTodo(join(dir, 'site')), 0);
  profile = join(dir, 'profile');
}, 60_000);

/** The browser, on the same profile (IndexedDB, service worker, localStorage) every time. */
const launch = () =>
  chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, args: ARGS });

afterAll(async () => {
  site?.close();
  await proxy?.close();
  await gateway?.close();
  rmSync(dir, { recursive: true, force: true });
});

const siteUrl = () => {
  const { port } = site.address() as { port: number };
  return `http://127.0.0.1:${port}/?gateway=${encodeURIComponent(proxy.url())}`;
};

const status = (page: Page) => page.getByTestId('status');
const todos = (page: Page) => page.getByTestId('todo').allInnerTexts();

async function openTab(context: BrowserContext): Promise<Page> {
  const page = await context.newPage();
  await page.goto(siteUrl());
  await expect.poll(() => status(page).innerText(), { timeout: 15_000 }).toMatch(/^CONNECTED/);
  // The service worker controls the page: from now on the page opens offline too.
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, {
    timeout: 15_000,
  });
  return page;
}

/** How many changesets the tab's IndexedDB database holds, read in the page. */
function storedChangesets(page: Page, name: string): Promise<number> {
  return page.evaluate(
    (db) =>
      new Promise<number>((resolve, reject) => {
        const open = indexedDB.open(db);
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const count = open.result.transaction('changesets').objectStore('changesets').count();
          count.onsuccess = () => (open.result.close(), resolve(count.result));
          count.onerror = () => reject(count.error);
        };
      }),
    name,
  );
}

async function serverTodos(): Promise<string[]> {
  const docs = await gateway.core.store.scanDocuments('todos', '', 1000);
  return docs.map((d) => String((d.doc as { text: string }).text)).sort();
}

const texts = (items: string[]) => items.map((t) => t.replace(/✕$/, '').trim()).sort();

describe('the to-do example', () => {
  it('keeps an offline write across a reload and a browser restart, syncs it when online, and shows it in the other tab', async () => {
    let browser = await launch();
    const a = await openTab(browser);
    const b = await openTab(browser);
    expect(await status(a).innerText()).toMatch(/todo-1$/);
    expect(await status(b).innerText()).toMatch(/todo-2$/);

    await browser.setOffline(true);
    proxy.refuse(true);
    proxy.reset();
    await expect.poll(() => status(a).innerText(), { timeout: 15_000 }).not.toMatch(/^CONNECTED/);
    await a.getByTestId('new').fill('buy milk, offline');
    await a.getByTestId('new').press('Enter');
    await expect.poll(() => todos(a)).toHaveLength(1);
    // Shown at once; reload only once IndexedDB has it (its transaction committed).
    await expect.poll(() => storedChangesets(a, 'todo-1'), { timeout: 15_000 }).toBe(1);

    await a.reload(); // still offline: the service worker serves the page, IndexedDB the write
    await expect.poll(() => todos(a), { timeout: 15_000 }).toHaveLength(1);
    expect(await status(a).innerText()).toMatch(/todo-1$/);

    await browser.close(); // a browser restart, still unsynced, the gateway still out of reach
    browser = await launch();
    await browser.setOffline(true);
    const again = await browser.newPage();
    await again.goto(siteUrl());
    await expect.poll(() => todos(again), { timeout: 15_000 }).toHaveLength(1);
    expect(await status(again).innerText()).toMatch(/todo-1$/);
    expect(await serverTodos()).toEqual([]);

    await browser.setOffline(false);
    proxy.refuse(false);
    const other = await openTab(browser); // the other slot, todo-2, a client of its own
    await expect.poll(() => todos(other), { timeout: 20_000 }).toHaveLength(1);
    expect(texts(await todos(other))).toEqual(['buy milk, offline']);
    expect(await serverTodos()).toEqual(['buy milk, offline']);
    expect(texts(await todos(again))).toEqual(await serverTodos());
    expect(texts(await todos(other))).toEqual(await serverTodos());
    await browser.close();
  }, 120_000);
});
