/**
 * GraphiQL in a real browser: the page comes from the local bundle (nothing from a CDN), a
 * mutation typed into the editor runs over HTTP, and a subscription over graphql-ws on the
 * same path. The gateway runs in development mode, so GraphiQL needs no token.
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
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'sync-gw-graphiql-'));
  const config = loadConfig([], {
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    SQLITE_FILE: ':memory:',
  });
  gateway = await startGateway(config, { logger: pino({ level: 'silent' }) });
});

afterAll(async () => {
  await gateway?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** Replaces the operation in GraphiQL's editor by typing it, and runs it. */
async function run(page: Page, operation: string) {
  await page.locator('.graphiql-query-editor .monaco-editor').first().click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Delete');
  await page.keyboard.type(operation);
  await page.keyboard.press('Escape'); // closes the autocompletion popup, if any
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
      browser = await chromium.launch({
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

      // The subscription went over graphql-ws on the GraphQL path, not SSE.
      expect(requested).toContain(gateway.wsUrl);
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
});
