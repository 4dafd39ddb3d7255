/**
 * GraphiQL in a real browser: the page comes from the local bundle (nothing from a CDN), a
 * mutation typed into the editor runs over HTTP, and a subscription over graphql-ws on the
 * same path; the page opens on the example tabs, which run in order on a new gateway with
 * only the session id pasted; a reload is answered 304 from the browser's cache. The
 * gateway runs in development mode, so GraphiQL needs no token.
 * Needs Debian's Chromium at /usr/bin/chromium (CI installs it); skipped without it.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { startGateway, type Gateway } from '../src/server/gateway.js';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = process.env.GRAPHIQL_SCREENSHOT;

let gateway: Gateway;
const dataDirs: string[] = [];

/** A gateway in development mode (no JWT_SECRET) on an in-memory store. */
async function devGateway(): Promise<Gateway> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sync-gw-graphiql-'));
  dataDirs.push(dataDir);
  const config = loadConfig([], {
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    SQLITE_FILE: ':memory:',
  });
  return startGateway(config, { logger: pino({ level: 'silent' }) });
}

beforeAll(async () => {
  gateway = await devGateway();
});

afterAll(async () => {
  await gateway?.close();
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--headless',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

const EXECUTE = 'Execute query (Ctrl-Enter)';
/** More than GraphiQL waits before it reads the operation's name from the editor. */
const OPERATION_NAME_DEBOUNCE_MS = 500;

/** Replaces the operation in GraphiQL's editor by typing it, and runs it. */
async function run(page: Page, operation: string) {
  await page.locator('.graphiql-query-editor .monaco-editor').first().click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Delete');
  await page.keyboard.type(operation);
  await page.keyboard.press('Escape'); // closes the autocompletion popup, if any
  // GraphiQL takes the operation's name from the editor after a debounce: executing before
  // it would ask for the name the editor held before ("Cannot infer operation").
  await page.waitForTimeout(OPERATION_NAME_DEBOUNCE_MS);
  await page.getByRole('button', { name: 'Execute query (Ctrl-Enter)' }).click();
}

/** The text of the result pane, with the editor's non-breaking spaces made plain. */
async function resultText(page: Page): Promise<string> {
  const text = await page.locator('.graphiql-response').innerText();
  return text.replace(/\u00a0/g, ' ');
}

function isLocal(url: string): boolean {
  const { protocol, hostname } = new URL(url);
  if (protocol === 'blob:' || protocol === 'data:') return true;
  return hostname === '127.0.0.1' || hostname === 'localhost';
}

describe('GraphiQL', () => {
  it('is served from the local bundle: no script, stylesheet or icon from another host', async () => {
    const response = await fetch(gateway.url, { headers: { accept: 'text/html' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/html');
    const html = await response.text();
    expect(html).toContain('<title>GraphQL sync gateway</title>');
    expect(html).toContain('YogaGraphiQL.renderYogaGraphiQL(');
    expect(html).not.toMatch(/unpkg\.com|jsdelivr\.net|cdnjs\.|esm\.sh/);
    expect(html).not.toMatch(/<(?:script|link)\b[^>]*\b(?:src|href)\s*=\s*["']?(?:https?:)?\/\//i);
    // The subscriptions protocol reaches the page's options.
    expect(html).toContain('"subscriptionsProtocol":"WS"');
  });

  it('runs a mutation over HTTP and a subscription over graphql-ws, all from localhost', async (ctx) => {
    ctx.skip(!existsSync(CHROMIUM), `${CHROMIUM} not found (apt-get install chromium)`);
    let browser: Browser | undefined;
    try {
      browser = await launch();
      const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
      const requested: string[] = [];
      const sent: string[] = [];
      const pageErrors: string[] = [];
      page.on('request', (request) => requested.push(request.url()));
      page.on('pageerror', (error) => pageErrors.push(error.message));
      page.on('websocket', (socket) => {
        requested.push(socket.url());
        socket.on('framesent', (frame) => sent.push(String(frame.payload)));
      });

      await page.goto(gateway.url);
      await expect
        .poll(() => page.getByRole('button', { name: 'Execute query (Ctrl-Enter)' }).count())
        .toBe(1);
      expect(await page.title()).toBe('GraphQL sync gateway');

      await run(
        page,
        'mutation { openSession(input: { clientId: "graphiql-1", queries: [{ collection: "todos" }] }) { id clientId state } }',
      );
      await expect.poll(() => resultText(page)).toContain('"clientId": "graphiql-1"');
      const opened = await resultText(page);
      expect(opened).toContain('"state": "ACTIVE"');
      const sessionId = /"id": "(ses_[^"]+)"/.exec(opened)?.[1];
      expect(sessionId).toBeDefined();

      await run(
        page,
        `subscription { progress(sessionId: "${sessionId}", direction: UPLOAD, mode: REPORT_INDEFINITELY) { direction progressEstimate transferableBytes } }`,
      );
      await expect.poll(() => resultText(page)).toContain('"progress": {');
      expect(await resultText(page)).toContain('"direction": "UPLOAD"');
      expect(await resultText(page)).toContain('"progressEstimate": 1');
      // Still subscribed: GraphiQL offers to stop it, and new work reaches the pane.
      await expect
        .poll(() => page.getByRole('button', { name: 'Stop query (Ctrl-Enter)' }).count())
        .toBe(1);
      const report = await fetch(gateway.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          query: `mutation ($id: ID!) { uploadChanges(sessionId: $id, changesets: [], latestClientVersion: 1, pendingBytes: 2048) { lastIntegratedClientVersion } }`,
          variables: { id: sessionId },
        }),
      });
      expect(report.status).toBe(200);
      await expect.poll(() => resultText(page)).toContain('"transferableBytes": 2048');
      if (SCREENSHOT) await page.screenshot({ path: SCREENSHOT });

      // The subscription went over graphql-ws on the GraphQL path, not SSE (GraphiQL sends
      // its operations to `/graphql?`, so that they do not drop the cached page).
      expect(requested).toContain(`${gateway.wsUrl}?`);
      expect(sent.some((f) => f.includes('"type":"connection_init"'))).toBe(true);
      expect(sent.some((f) => f.includes('"type":"subscribe"') && f.includes('progress'))).toBe(
        true,
      );
      expect(requested.filter((url) => !isLocal(url))).toEqual([]);
      expect(pageErrors).toEqual([]);
    } finally {
      await browser?.close();
    }
  });

  it('opens on the example tabs, which run in order on a new gateway with the session id pasted; a reload is a 304', async (ctx) => {
    ctx.skip(!existsSync(CHROMIUM), `${CHROMIUM} not found (apt-get install chromium)`);
    const fresh = await devGateway();
    let browser: Browser | undefined;
    try {
      browser = await launch();
      const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
      const pageErrors: string[] = [];
      const pageLoads: { conditional: boolean; encoding?: string; bodyBytes: number }[] = [];
      page.on('pageerror', (error) => pageErrors.push(error.message));
      page.on('requestfinished', async (request) => {
        if (request.resourceType() !== 'document') return;
        const [headers, response, sizes] = await Promise.all([
          request.allHeaders(),
          request.response(),
          request.sizes(),
        ]);
        pageLoads.push({
          conditional: 'if-none-match' in headers,
          encoding: (await response?.allHeaders())?.['content-encoding'],
          bodyBytes: sizes.responseBodySize,
        });
      });

      const loadedAt = Date.now();
      await page.goto(fresh.url);
      await expect.poll(() => page.getByRole('button', { name: EXECUTE }).count()).toBe(1);
      const titles = await page.locator('.graphiql-tab-button').allInnerTexts();
      expect(titles).toEqual([
        'OpenSession',
        'UploadChangeset',
        'FollowChanges',
        'AcknowledgeDownload',
        'WatchProgress',
        'BrowseDocuments',
      ]);

      // The changeset's timestamp is the time the browser loaded the page, as an HLC.
      const tabState = () => page.evaluate(() => localStorage.getItem('graphiql:tabState'));
      await expect.poll(tabState).not.toBeNull();
      const stored = await tabState();
      const tabs = (JSON.parse(stored!) as { tabs: { variables: string | null }[] }).tabs;
      const timestamp = (JSON.parse(tabs[1]!.variables!) as { changesets: { timestamp: string }[] })
        .changesets[0]!.timestamp;
      expect(timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z-0000$/);
      expect(Math.abs(Date.parse(timestamp.slice(0, -5)) - loadedAt)).toBeLessThan(60_000);

      const execute = () => page.getByRole('button', { name: EXECUTE }).click();
      /** Opens a tab (by keyboard: in headless Chromium a mouse click on a tab does not switch). */
      const openTab = async (title: string) => {
        await page.getByRole('button', { name: title, exact: true }).focus();
        await page.keyboard.press('Enter');
        await expect.poll(() => page.locator('.graphiql-tab-active').innerText()).toBe(title);
        await expect
          .poll(async () => {
            const editor = page.locator('.graphiql-query-editor .view-lines').first();
            return (await editor.innerText()).replace(/\u00a0/g, ' ');
          })
          .toMatch(new RegExp(`(query|mutation|subscription) ${title}\\b`));
        await page.waitForTimeout(OPERATION_NAME_DEBOUNCE_MS);
      };
      const variables = page.locator(
        'section[aria-label="Variables"] .graphiql-editor:not(.hidden)',
      );
      /** Pastes the session id over the placeholder, as a user does: double-click, paste. */
      const pasteSessionId = async (id: string) => {
        const placeholder = variables.locator('.view-line span span', {
          hasText: 'ses_PASTE_THE_ID_FROM_TAB_1',
        });
        await placeholder.first().dblclick();
        await page.keyboard.insertText(id);
        await expect.poll(() => variables.locator('.view-lines').innerText()).toContain(id);
      };

      // 1. OpenSession: no variables to fill in.
      await execute();
      await expect.poll(() => resultText(page)).toContain('"clientId": "graphiql-demo"');
      const sessionId = /"id": "(ses_[^"]+)"/.exec(await resultText(page))?.[1];
      expect(sessionId).toBeDefined();

      // 2. UploadChangeset.
      await openTab('UploadChangeset');
      await pasteSessionId(sessionId!);
      await execute();
      await expect.poll(() => resultText(page)).toContain('"lastIntegratedClientVersion": 1');
      expect(await resultText(page)).toContain('"compensatingWrites": []');

      // 3. FollowChanges: the bootstrap's batch (with the todo), then the live stream's first,
      // empty; GraphiQL shows the newest. Then stop it.
      await openTab('FollowChanges');
      await pasteSessionId(sessionId!);
      await execute();
      await expect.poll(() => resultText(page)).toContain('"toServerVersion": 1');
      expect(await resultText(page)).toContain('"queriesVersion": 0');
      await page.getByRole('button', { name: 'Stop query (Ctrl-Enter)' }).click();
      await expect.poll(() => page.getByRole('button', { name: EXECUTE }).count()).toBe(1);

      // 4. AcknowledgeDownload, with the versions it already holds for a new gateway.
      await openTab('AcknowledgeDownload');
      await pasteSessionId(sessionId!);
      await execute();
      await expect.poll(() => resultText(page)).toContain('"lastDownloadedServerVersion": 1');

      // 5. WatchProgress: the download is complete, so it reports 1 and completes.
      await openTab('WatchProgress');
      await pasteSessionId(sessionId!);
      await execute();
      await expect.poll(() => resultText(page)).toContain('"progressEstimate": 1');
      expect(await resultText(page)).toContain('"direction": "DOWNLOAD"');

      // 6. BrowseDocuments: the todo, and nothing more.
      await openTab('BrowseDocuments');
      await execute();
      await expect.poll(() => resultText(page)).toContain('"text": "Try the sync gateway"');
      expect(await resultText(page)).toContain('"hasNextPage": false');
      expect(await resultText(page)).not.toContain('"errors"');

      // A reload revalidates the page with If-None-Match: 304, no body. (The URL stays the
      // GraphQL path: GraphiQL does not write the open operation into it.)
      expect(new URL(page.url()).search).toBe('');
      await page.reload();
      await expect.poll(() => page.getByRole('button', { name: EXECUTE }).count()).toBe(1);
      await expect.poll(() => pageLoads.length).toBe(2);
      expect(pageLoads[0]).toMatchObject({ conditional: false, encoding: 'br' });
      expect(pageLoads[0]!.bodyBytes).toBeGreaterThan(1_000_000);
      expect(pageLoads[0]!.bodyBytes).toBeLessThan(2_500_000);
      expect(pageLoads[1]).toMatchObject({ conditional: true, bodyBytes: 0 });
      // The tabs are as they were left.
      await expect
        .poll(() => page.locator('.graphiql-tab-active').innerText())
        .toBe('BrowseDocuments');
      expect(await page.locator('.graphiql-tab-button').count()).toBe(6);
      expect(pageErrors).toEqual([]);
    } finally {
      await browser?.close();
      await fresh.close();
    }
  });
});
