/**
 * The admin page (/admin) in real Chromium against a real gateway (JWT_SECRET set): an admin
 * types their token, sees every user's sessions with user, state and connection, pauses,
 * resumes and closes sessions with the row's buttons (and the API agrees), sees changes
 * made elsewhere arrive live over graphql-ws, filters, and asks every client to reconnect.
 *
 * The gateway does not serve /admin yet (gateway.ts wires handleAdmin), so a front server
 * answers with handleAdmin and passes everything else, WebSocket upgrades included, to the
 * gateway: the page stays same-origin, as in production.
 * Needs Debian's Chromium at /usr/bin/chromium (CI installs it); skipped without it.
 * ADMIN_PAGE_SCREENSHOT=docs/admin-page.png writes the screenshot the docs show.
 */
import { existsSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import net, { type AddressInfo, type Socket } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleAdmin } from '../src/server/admin-page.js';
import { startTestGateway, type TestGateway } from './helpers/gateway.js';
import { stream } from './helpers/stream.js';
import { hlc } from './helpers/sync-client.js';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = process.env.ADMIN_PAGE_SCREENSHOT;
const ARGS = [
  '--no-sandbox',
  '--headless',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

interface Front {
  url: string;
  /** Cuts every WebSocket passed to the gateway; how many. */
  dropSockets(): number;
  close(): Promise<void>;
}

/** handleAdmin first; every other request and upgrade goes to the gateway unchanged. */
async function startFront(upstream: number): Promise<Front> {
  const sockets = new Set<Socket>();
  const upgraded = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    if (handleAdmin(req, res)) return;
    const options = { host: '127.0.0.1', port: upstream, method: req.method, path: req.url };
    const proxied = request({ ...options, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode!, answer.headers);
      answer.pipe(res);
    });
    proxied.on('error', () => res.destroy());
    req.pipe(proxied);
  });
  server.on('upgrade', (req, socket: Socket, head: Buffer) => {
    const gateway = net.connect(upstream, '127.0.0.1', () => {
      const lines = [`${req.method} ${req.url} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      }
      gateway.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length > 0) gateway.write(head);
      socket.pipe(gateway).pipe(socket);
    });
    upgraded.add(socket);
    socket.on('close', () => upgraded.delete(socket));
    for (const s of [socket, gateway]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        sockets.delete(s);
        socket.destroy();
        gateway.destroy();
      });
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    dropSockets: () => {
      const n = upgraded.size;
      for (const s of upgraded) s.destroy();
      return n;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

const OPEN = `mutation ($c: ID!) {
  openSession(input: { clientId: $c, queries: [{ collection: "cars" }] }) { id } }`;
const UPLOAD = `mutation ($s: ID!, $cs: [ChangesetInput!]!, $latest: Int, $pending: Float) {
  uploadChanges(sessionId: $s, changesets: $cs, latestClientVersion: $latest, pendingBytes: $pending) {
    lastIntegratedClientVersion } }`;
const SESSION = `query ($id: ID!) { session(id: $id) { state pausedDirections closed } }`;
const EVENTS = `subscription ($id: ID!) { sessionEvents(sessionId: $id) { type } }`;

let gw: TestGateway;
let front: Front;
const tokens = { admin: '', alice: '', bob: '' };
const ids = { phone: '', tablet: '', laptop: '' };

async function open(clientId: string, token: string): Promise<string> {
  const opened = await gw.http<{ openSession: { id: string } }>(OPEN, { c: clientId }, token);
  expect(opened.errors).toBeUndefined();
  return opened.data!.openSession.id;
}

beforeAll(async () => {
  gw = await startTestGateway();
  front = await startFront(gw.gateway.port);
  tokens.admin = await gw.token('root', ['admin']);
  tokens.alice = await gw.token('alice');
  tokens.bob = await gw.token('bob');
  ids.phone = await open('alice-phone', tokens.alice);
  ids.tablet = await open('alice-tablet', tokens.alice);
  ids.laptop = await open('bob-laptop', tokens.bob);
  // alice-phone has made 5 changesets and sent 2: an upload backlog of 3 and some bytes to
  // come; the cars it wrote are in its scope and not acknowledged: a download backlog.
  const changesets = [1, 2].map((v) => ({
    clientVersion: v,
    timestamp: hlc(),
    changes: [
      {
        collection: 'cars',
        id: `car-${v}`,
        op: 'INSERT',
        document: { ownerId: 'alice', model: `Model ${v}`, notes: 'x'.repeat(400) },
      },
    ],
  }));
  const vars = { s: ids.phone, cs: changesets, latest: 5, pending: 1500 };
  const uploaded = await gw.http(UPLOAD, vars, tokens.alice);
  expect(uploaded.errors).toBeUndefined();
});

afterAll(async () => {
  await front?.close();
  await gw?.close();
});

const poll = <T>(fn: () => Promise<T> | T) => expect.poll(fn, { timeout: 15_000 });

const rows = (page: Page) => page.locator('tbody tr');
const row = (page: Page, clientId: string) =>
  page.locator('tbody tr', {
    has: page.getByRole('cell', { name: clientId, exact: true }),
  });
const cell = (page: Page, clientId: string, name: string) =>
  row(page, clientId).locator(`td.${name}`).innerText();
/** The client ids shown, sorted (the page lists sessions by id, which are random). */
const clientIds = async (page: Page) =>
  (await page.locator('tbody td.client').allInnerTexts()).sort();

async function viaApi(id: string) {
  const result = await gw.http<{
    session: { state: string; pausedDirections: string[]; closed: boolean };
  }>(SESSION, { id }, tokens.admin);
  expect(result.errors).toBeUndefined();
  return result.data!.session;
}

async function signIn(page: Page, token: string) {
  await page.getByLabel('Admin token').fill(token);
  await page.getByRole('button', { name: 'Connect', exact: true }).click();
}

describe('the admin page', () => {
  it('lists every session live, and pauses, resumes and closes them through the API', async (ctx) => {
    ctx.skip(!existsSync(CHROMIUM), `${CHROMIUM} not found (apt-get install chromium)`);
    let browser: Browser | undefined;
    const bob = gw.ws(tokens.bob);
    try {
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
      const page = await browser.newPage({ viewport: { width: 1440, height: 640 } });
      const requested: string[] = [];
      const sent: string[] = [];
      const received: string[] = [];
      const problems: string[] = [];
      page.on('request', (r) => requested.push(r.url()));
      page.on('pageerror', (error) => problems.push(error.message));
      page.on('console', (m) => {
        const favicon = m.location().url.endsWith('/favicon.ico');
        if (m.type() === 'error' && !favicon) problems.push(m.text());
      });
      page.on('websocket', (socket) => {
        requested.push(socket.url());
        socket.on('framesent', (f) => sent.push(String(f.payload)));
        socket.on('framereceived', (f) => received.push(String(f.payload)));
      });

      await page.goto(`${front.url}/admin`);
      expect(await page.title()).toBe('Sessions · GraphQL sync gateway');
      await signIn(page, tokens.admin);
      await poll(() => page.locator('#status').innerText()).toBe('Live');
      await poll(() => clientIds(page)).toEqual(['alice-phone', 'alice-tablet', 'bob-laptop']);
      expect(await page.locator('#who').innerText()).toMatch(/^Admin “root”/);
      // The token went in connection_init, nowhere else; the socket is this origin's.
      const init = sent.find((f) => f.includes('"connection_init"'));
      expect(JSON.parse(init!)).toEqual({
        type: 'connection_init',
        payload: { authToken: tokens.admin },
      });
      expect(await page.evaluate(() => sessionStorage.length)).toBe(1);

      expect(await cell(page, 'alice-phone', 'user')).toBe('alice');
      expect(await cell(page, 'bob-laptop', 'user')).toBe('bob');
      expect(await cell(page, 'alice-phone', 'state')).toBe('ACTIVE');
      expect(await cell(page, 'bob-laptop', 'connection')).toBe('DISCONNECTED');
      expect(await cell(page, 'alice-phone', 'reset')).toBe('no');
      await poll(() => cell(page, 'alice-phone', 'backlog')).toMatch(/↑ 3 changesets\s+↓ \d/);
      expect(await cell(page, 'bob-laptop', 'backlog')).toMatch(/↑ 0 changesets/);
      const upload = row(page, 'alice-phone').getByLabel('Upload');
      expect(Number(await upload.getAttribute('value'))).toBeLessThan(1);
      const download = row(page, 'alice-phone').getByLabel('Download');
      await poll(() => download.getAttribute('value')).not.toBeNull();
      expect(Number(await download.getAttribute('value'))).toBeLessThan(1);

      // Bob's client connects: the page hears it on connectionStateChanges.
      const bobEvents = stream<{ sessionEvents: { type: string } }>(bob, EVENTS, {
        id: ids.laptop,
      });
      await poll(() => cell(page, 'bob-laptop', 'connection')).toBe('CONNECTED');
      expect(received.some((f) => f.includes('"connectionStateChanges"'))).toBe(true);

      // Pause and resume with the row's buttons; the API agrees.
      await row(page, 'alice-phone').getByRole('button', { name: 'Pause' }).click();
      await poll(() => cell(page, 'alice-phone', 'state')).toMatch(
        /^INACTIVE\s+paused: upload \+ download$/,
      );
      expect(await viaApi(ids.phone)).toMatchObject({
        state: 'INACTIVE',
        pausedDirections: ['UPLOAD', 'DOWNLOAD'],
      });
      const pause = row(page, 'alice-phone').getByRole('button', { name: 'Pause' });
      await poll(() => pause.isDisabled()).toBe(true);
      await row(page, 'alice-phone').getByRole('button', { name: 'Resume' }).click();
      await poll(() => cell(page, 'alice-phone', 'state')).toBe('ACTIVE');
      expect(await viaApi(ids.phone)).toMatchObject({ state: 'ACTIVE', pausedDirections: [] });

      // A pause made elsewhere (by the client itself) arrives on sessionEvents.
      const paused = await gw.http(
        `mutation ($id: ID!) { pauseSession(id: $id, direction: UPLOAD) { state } }`,
        { id: ids.phone },
        tokens.alice,
      );
      expect(paused.errors).toBeUndefined();
      await poll(() => cell(page, 'alice-phone', 'state')).toBe('INACTIVE\npaused: upload');
      expect(received.some((f) => f.includes('"sessionEvents"') && f.includes('PAUSED'))).toBe(
        true,
      );

      // The socket drops: the page connects again by itself and watches the rows again.
      const before = sent.filter((f) => f.includes('"connection_init"')).length;
      const resumedEvents = () =>
        received.filter((f) => f.includes('"sessionEvents"') && f.includes('"RESUMED"')).length;
      const heard = resumedEvents();
      // The page's sessionEvents of the phone, on the gateway: the old socket's ends with
      // it, the new socket's starts after the page reconnects and lists the rows again.
      const watching = () => gw.gateway.sessions.events.count(ids.phone);
      const watchers = watching();
      expect(front.dropSockets()).toBe(1);
      await poll(watching).toBe(watchers - 1);
      await poll(() => sent.filter((f) => f.includes('"connection_init"')).length).toBe(before + 1);
      await poll(() => page.locator('#status').innerText()).toBe('Live');
      await poll(watching).toBe(watchers);
      const resumed = await gw.http(
        `mutation ($id: ID!) { resumeSession(id: $id) { state } }`,
        { id: ids.phone },
        tokens.alice,
      );
      expect(resumed.errors).toBeUndefined();
      await poll(() => cell(page, 'alice-phone', 'state')).toBe('ACTIVE');
      await poll(resumedEvents).toBe(heard + 1); // heard live on the new socket
      const again = await gw.http(
        `mutation ($id: ID!) { pauseSession(id: $id, direction: UPLOAD) { state } }`,
        { id: ids.phone },
        tokens.alice,
      );
      expect(again.errors).toBeUndefined();
      await poll(() => cell(page, 'alice-phone', 'state')).toBe('INACTIVE\npaused: upload');

      // Filters: text (user or client id), state, connection.
      await page.getByLabel('User or client id').fill('bob');
      await poll(() => clientIds(page)).toEqual(['bob-laptop']);
      await page.getByLabel('User or client id').fill('TABLET');
      await poll(() => clientIds(page)).toEqual(['alice-tablet']);
      await page.getByLabel('User or client id').fill('');
      await poll(() => rows(page).count()).toBe(3);
      await page.getByLabel('State').selectOption('INACTIVE');
      await poll(() => clientIds(page)).toEqual(['alice-phone']);
      await page.getByLabel('State').selectOption('');
      await page.getByLabel('Connection').selectOption('CONNECTED');
      await poll(() => clientIds(page)).toEqual(['bob-laptop']);
      await page.getByLabel('Connection').selectOption('');
      await poll(() => rows(page).count()).toBe(3);
      expect(await page.locator('#page-info').innerText()).toBe('Page 1 · 3 sessions');
      if (SCREENSHOT) await page.screenshot({ path: SCREENSHOT, fullPage: true });

      // Close, after the confirmation.
      page.once('dialog', (dialog) => void dialog.accept());
      await row(page, 'alice-tablet').getByRole('button', { name: 'Close' }).click();
      await poll(() => cell(page, 'alice-tablet', 'state')).toBe('CLOSED');
      expect(await viaApi(ids.tablet)).toMatchObject({ closed: true });
      for (const name of ['Pause', 'Resume', 'Reconnect', 'Close']) {
        const button = row(page, 'alice-tablet').getByRole('button', { name });
        expect(await button.isDisabled()).toBe(true);
      }

      // Reconnect one session: bob's client hears it.
      await row(page, 'bob-laptop').getByRole('button', { name: 'Reconnect' }).click();
      await poll(() => page.locator('#notice').innerText()).toBe(
        'Asked to reconnect: “bob-laptop”.',
      );
      expect((await bobEvents.next()).data?.sessionEvents.type).toBe('RECONNECT_REQUESTED');

      // Reconnect all: the API asks every open session at once; bob's client hears it.
      page.once('dialog', (dialog) => void dialog.accept());
      await page.getByRole('button', { name: 'Ask all clients to reconnect' }).click();
      await poll(() => page.locator('#notice').innerText()).toBe('Asked 2 sessions to reconnect.');
      expect((await bobEvents.next()).data?.sessionEvents.type).toBe('RECONNECT_REQUESTED');
      bobEvents.stop();

      // The token stays for the tab: a reload comes back live without typing it.
      await page.reload();
      await poll(() => clientIds(page)).toEqual(['alice-phone', 'alice-tablet', 'bob-laptop']);

      // A token that is no admin's sees its own sessions only, and is told so.
      await signIn(page, tokens.bob);
      await poll(() => clientIds(page)).toEqual(['bob-laptop']);
      expect(await page.locator('#who').innerText()).toMatch(/not an admin/);

      // A bad token is refused (4403), and forgetting the token clears the page.
      await signIn(page, 'not-a-token');
      await poll(() => page.locator('#status').innerText()).toMatch(/refused the token/);
      await page.getByRole('button', { name: 'Forget token' }).click();
      await poll(() => rows(page).count()).toBe(0);
      expect(await page.evaluate(() => sessionStorage.length)).toBe(0);

      const foreign = requested.filter((u) => !u.startsWith(front.url.replace('http', 'ws')));
      expect(foreign.filter((u) => !u.startsWith(front.url))).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      await bob.dispose();
      await browser?.close();
    }
  }, 90_000);

  it('pages 50 at a time, filters by text across pages, and watches only the page shown', async (ctx) => {
    ctx.skip(!existsSync(CHROMIUM), `${CHROMIUM} not found (apt-get install chromium)`);
    const carol = await gw.token('carol');
    const bulk = Array.from({ length: 60 }, (_, i) => `carol-${String(i).padStart(2, '0')}`);
    for (const clientId of bulk) await open(clientId, carol);
    const total = 3 + bulk.length;
    let browser: Browser | undefined;
    try {
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
      const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
      const problems: string[] = [];
      page.on('pageerror', (error) => problems.push(error.message));
      /** Subscriptions the page holds open, by operation id. */
      const watching = new Map<string, string>();
      page.on('websocket', (socket) => {
        socket.on('framesent', (f) => {
          const m = JSON.parse(String(f.payload)) as {
            id?: string;
            type: string;
            payload?: { query: string };
          };
          if (m.type === 'subscribe' && m.payload!.query.startsWith('subscription')) {
            watching.set(m.id!, m.payload!.query);
          }
          if (m.type === 'complete') watching.delete(m.id!);
        });
        socket.on('framereceived', (f) => {
          const m = JSON.parse(String(f.payload)) as { id?: string; type: string };
          if (m.type === 'complete' || m.type === 'error') watching.delete(m.id!);
        });
      });
      await page.goto(`${front.url}/admin`);
      await signIn(page, tokens.admin);

      await poll(() => rows(page).count()).toBe(50);
      const first = await clientIds(page);
      await poll(() => watching.size).toBeGreaterThan(100);
      expect(watching.size).toBeLessThanOrEqual(150); // 3 per open session shown
      expect(await page.getByRole('button', { name: 'Previous' }).isDisabled()).toBe(true);
      await page.getByRole('button', { name: 'Next' }).click();
      await poll(() => rows(page).count()).toBe(total - 50);
      const second = await clientIds(page);
      expect([...first, ...second].sort()).toEqual(
        [...bulk, 'alice-phone', 'alice-tablet', 'bob-laptop'].sort(),
      );
      expect(await page.locator('#page-info').innerText()).toBe(`Page 2 · ${total - 50} sessions`);
      expect(await page.getByRole('button', { name: 'Next' }).isDisabled()).toBe(true);
      // The first page's rows are no longer watched.
      await poll(() => watching.size).toBeLessThanOrEqual(3 * (total - 50));
      await page.getByRole('button', { name: 'Previous' }).click();
      await poll(() => clientIds(page)).toEqual(first);

      // The text filter scans past the first page; its rows come by id, 25 to a query.
      await page.getByLabel('User or client id').fill('carol-');
      const others = async () => (await clientIds(page)).filter((id) => !id.startsWith('carol-'));
      await poll(others).toEqual([]);
      await poll(() => rows(page).count()).toBe(50);
      const carols = await clientIds(page);
      expect(await page.locator('#page-info').innerText()).toMatch(
        /^Page 1 · 50 sessions · \d+ scanned for “carol-”$/,
      );
      await page.getByRole('button', { name: 'Next' }).click();
      await poll(() => rows(page).count()).toBe(10);
      expect([...carols, ...(await clientIds(page))].sort()).toEqual(bulk);
      expect(await page.locator('#notice').isHidden()).toBe(true); // no refusal by the gateway
      expect(problems).toEqual([]);
    } finally {
      await browser?.close();
    }
  }, 90_000);
});
