/**
 * GET /metrics on a real gateway: the text is valid Prometheus exposition, and the
 * counters and histograms move by exactly what real uploads over HTTP, acknowledgements,
 * subscriptions over graphql-ws and errors did. Durations are measured on an injected
 * monotonic clock, so their sums are exact.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startTestGateway, type TestGateway } from './helpers/gateway.js';
import { hlc, SyncTestClient } from './helpers/sync-client.js';

type Samples = Map<string, number>;

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL = '[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*"';
const SAMPLE = new RegExp(`^(${NAME})(\\{(?:${LABEL}(?:,${LABEL})*)?\\})? (\\S+)( -?\\d+)?$`);
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const SUFFIXES = /_(bucket|sum|count)$/;

/** As Prometheus reads a value (Go's ParseFloat: NaN and Inf in any case; prom-client writes Nan). */
function parseValue(text: string, line: string): number {
  const special = /^([-+]?)(inf|infinity|nan)$/i.exec(text);
  if (special) {
    if (special[2]!.toLowerCase() === 'nan') return NaN;
    return special[1] === '-' ? -Infinity : Infinity;
  }
  if (!/^[-+]?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(text)) throw new Error(`bad value: ${line}`);
  return Number(text);
}

function familyOf(name: string, types: Map<string, string>): string | undefined {
  if (types.has(name)) return name;
  const base = name.replace(SUFFIXES, '');
  const type = types.get(base);
  return type === 'histogram' || type === 'summary' ? base : undefined;
}

/**
 * A strict reading of the Prometheus text format 0.0.4: HELP and TYPE lines, then samples
 * of declared families only. Keys are `name{labels}` as written.
 */
function parseExposition(text: string): Samples {
  const types = new Map<string, string>();
  const samples: Samples = new Map();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) {
      if (!TYPES.has(type[2]!) || types.has(type[1]!)) throw new Error(`bad TYPE: ${line}`);
      types.set(type[1]!, type[2]!);
      continue;
    }
    if (new RegExp(`^# HELP ${NAME} `).test(line)) continue;
    const sample = SAMPLE.exec(line);
    if (!sample) throw new Error(`not a sample: ${line}`);
    if (!familyOf(sample[1]!, types)) throw new Error(`sample of no declared family: ${line}`);
    const key = `${sample[1]}${sample[2] ?? ''}`;
    if (samples.has(key)) throw new Error(`sample twice: ${line}`);
    samples.set(key, parseValue(sample[3]!, line));
  }
  return samples;
}

const gateways: TestGateway[] = [];
afterEach(async () => {
  await Promise.all(gateways.splice(0).map((g) => g.close()));
});

/** A fake monotonic clock: every reading is 5 ms after the last. */
function steppingClock(stepMs = 5) {
  let t = 0;
  return () => (t += stepMs);
}

async function start(options: Parameters<typeof startTestGateway>[0] = {}) {
  const gw = await startTestGateway({ metricsNow: steppingClock(), ...options });
  gateways.push(gw);
  return gw;
}

const metricsUrl = (gw: TestGateway) => new URL('/metrics', gw.gateway.url);

async function scrape(gw: TestGateway): Promise<Samples> {
  const response = await fetch(metricsUrl(gw));
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseExposition(await response.text());
}

const value = (samples: Samples, key: string) => samples.get(key) ?? 0;

/** The change of every named sample between two scrapes. */
function deltas(before: Samples, after: Samples, keys: string[]) {
  return Object.fromEntries(keys.map((k) => [k, value(after, k) - value(before, k)]));
}

const OPEN = `mutation ($input: OpenSessionInput!) { openSession(input: $input) { id } }`;
const UPLOAD = `mutation ($sessionId: ID!, $changesets: [ChangesetInput!]!) {
  uploadChanges(sessionId: $sessionId, changesets: $changesets) {
    serverVersion compensatingWrites { reason } } }`;
const ACK = `mutation ($s: ID!, $v: Int!) { acknowledgeDownload(sessionId: $s, serverVersion: $v) { id } }`;

const insert = (id: string, ownerId: string) => ({
  collection: 'cars',
  id,
  op: 'INSERT',
  document: { ownerId },
});

async function openOverHttp(gw: TestGateway, token: string, clientId: string) {
  const opened = await gw.http<{ openSession: { id: string } }>(
    OPEN,
    { input: { clientId, queries: [{ collection: 'cars' }] } },
    token,
  );
  return opened.data!.openSession.id;
}

type UploadAnswer = {
  uploadChanges: { serverVersion: number; compensatingWrites: { reason: string }[] };
};

function upload(gw: TestGateway, token: string, sessionId: string, changesets: unknown[]) {
  return gw.http<UploadAnswer>(UPLOAD, { sessionId, changesets }, token);
}

describe('GET /metrics', () => {
  it('is valid Prometheus text with the process metrics and every gateway metric', async () => {
    const gw = await start();
    const samples = await scrape(gw);
    for (const key of [
      'nodejs_eventloop_lag_seconds',
      'process_cpu_user_seconds_total',
      'sync_uploads_total{outcome="integrated"}',
      'sync_changes_integrated_total',
      'sync_upload_duration_seconds_count',
      'sync_integration_duration_seconds_count',
      'sync_group_commit_size_count',
      'sync_download_lag_versions_count',
      'sync_download_lag_max_versions',
      'sync_latest_server_version',
      'sync_subscriptions_open{operation="changes"}',
      'sync_subscriptions_open{operation="connectionStateChanges"}',
      'sync_sessions{state="ACTIVE",connection="CONNECTED"}',
    ]) {
      expect(samples.has(key), key).toBe(true);
    }
  });

  it('has every metric the Grafana dashboard charts', async () => {
    const gw = await start();
    const families = new Set([...(await scrape(gw)).keys()].map((k) => k.replace(/[{].*$/, '')));
    const dashboard = readFileSync(
      new URL('../docs/grafana-dashboard.json', import.meta.url),
      'utf8',
    );
    const charted = dashboard.match(/\b(sync|nodejs|process)_[a-z0-9_]+/g) ?? [];
    expect(charted.length).toBeGreaterThan(10);
    for (const name of new Set(charted)) expect(families.has(name), name).toBe(true);
  });

  it('counts uploads, integrated changes, refused writes, group commits and their durations', async () => {
    const gw = await start();
    const alice = await gw.token('alice');
    const sessionId = await openOverHttp(gw, alice, 'a1');
    const before = await scrape(gw);
    const first = await upload(gw, alice, sessionId, [
      {
        clientVersion: 1,
        timestamp: hlc(),
        changes: [insert('c1', 'alice'), insert('c2', 'alice')],
      },
      { clientVersion: 2, timestamp: hlc(), changes: [insert('x1', 'bob')] }, // PERMISSION_DENIED
    ]);
    expect(first.data!.uploadChanges.compensatingWrites).toHaveLength(1);
    const update = { collection: 'cars', id: 'nope', op: 'UPDATE', set: { a: 1 } }; // NOT_FOUND
    await upload(gw, alice, sessionId, [{ clientVersion: 3, timestamp: hlc(), changes: [update] }]);
    // Re-sent: acknowledged again, integrated once.
    await upload(gw, alice, sessionId, [
      {
        clientVersion: 1,
        timestamp: hlc(),
        changes: [insert('c1', 'alice'), insert('c2', 'alice')],
      },
    ]);
    const after = await scrape(gw);
    expect(
      deltas(before, after, [
        'sync_uploads_total{outcome="integrated"}',
        'sync_changes_integrated_total',
        'sync_refused_writes_total{reason="PERMISSION_DENIED"}',
        'sync_refused_writes_total{reason="NOT_FOUND"}',
        'sync_group_commit_size_count',
        'sync_group_commit_size_sum',
        'sync_upload_duration_seconds_count',
        'sync_integration_duration_seconds_count',
      ]),
    ).toEqual({
      'sync_uploads_total{outcome="integrated"}': 3,
      sync_changes_integrated_total: 2,
      'sync_refused_writes_total{reason="PERMISSION_DENIED"}': 1,
      'sync_refused_writes_total{reason="NOT_FOUND"}': 1,
      sync_group_commit_size_count: 3,
      sync_group_commit_size_sum: 3,
      sync_upload_duration_seconds_count: 3,
      sync_integration_duration_seconds_count: 3,
    });
    // Each upload reads the clock four times in sequence: start, integration, its end, end.
    const sum = (k: string) => value(after, k) - value(before, k);
    expect(sum('sync_upload_duration_seconds_sum')).toBeCloseTo(3 * 0.015, 9);
    expect(sum('sync_integration_duration_seconds_sum')).toBeCloseTo(3 * 0.005, 9);
    expect(value(after, 'sync_latest_server_version')).toBe(
      first.data!.uploadChanges.serverVersion,
    );
  });

  it('counts uploads refused before integration, and errors by code', async () => {
    const gw = await start();
    const alice = await gw.token('alice');
    const sessionId = await openOverHttp(gw, alice, 'a1');
    const before = await scrape(gw);
    const bad = await upload(gw, alice, sessionId, [
      { clientVersion: 1, timestamp: 'not a timestamp', changes: [insert('c1', 'alice')] },
    ]);
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    await gw.http('{ sessions(first: 1) { edges { node { id } } } }', {}, 'not-a-token');
    const after = await scrape(gw);
    expect(
      deltas(before, after, [
        'sync_uploads_total{outcome="rejected"}',
        'sync_uploads_total{outcome="integrated"}',
        'sync_graphql_errors_total{code="BAD_USER_INPUT"}',
        'sync_graphql_errors_total{code="UNAUTHENTICATED"}',
      ]),
    ).toEqual({
      'sync_uploads_total{outcome="rejected"}': 1,
      'sync_uploads_total{outcome="integrated"}': 0,
      'sync_graphql_errors_total{code="BAD_USER_INPUT"}': 1,
      'sync_graphql_errors_total{code="UNAUTHENTICATED"}': 1,
    });
  });

  it('observes the download lag at each acknowledgement', async () => {
    const gw = await start();
    const alice = await gw.token('alice');
    const sessionId = await openOverHttp(gw, alice, 'a1');
    const changes = [insert('c1', 'alice'), insert('c2', 'alice'), insert('c3', 'alice')];
    const up = await upload(gw, alice, sessionId, [
      { clientVersion: 1, timestamp: hlc(), changes },
    ]);
    const latest = up.data!.uploadChanges.serverVersion;
    const before = await scrape(gw);
    await gw.http(ACK, { s: sessionId, v: latest - 2 }, alice);
    await gw.http(ACK, { s: sessionId, v: latest }, alice);
    const after = await scrape(gw);
    expect(
      deltas(before, after, [
        'sync_download_lag_versions_count',
        'sync_download_lag_versions_sum',
        'sync_download_lag_versions_bucket{le="0"}',
      ]),
    ).toEqual({
      sync_download_lag_versions_count: 2,
      sync_download_lag_versions_sum: 2,
      'sync_download_lag_versions_bucket{le="0"}': 1,
    });
  });

  it('counts open subscriptions by operation and the sessions connected here by state', async () => {
    const gw = await start();
    const alice = await gw.token('alice');
    const client = new SyncTestClient(gw.ws(alice), 'a1');
    await client.open([{ collection: 'cars' }]);
    client.startDownload();
    const events = client.ws.subscribe(
      {
        query: 'subscription ($id: ID!) { sessionEvents(sessionId: $id) { type } }',
        variables: { id: client.sessionId },
      },
      { next: () => {}, error: () => {}, complete: () => {} },
    );
    const open = (s: Samples, op: string) => value(s, `sync_subscriptions_open{operation="${op}"}`);
    await vi.waitFor(async () => {
      const s = await scrape(gw);
      expect([open(s, 'changes'), open(s, 'sessionEvents')]).toEqual([1, 1]);
      expect(value(s, 'sync_sessions{state="ACTIVE",connection="CONNECTED"}')).toBe(1);
    });
    await gw.http(
      `mutation ($id: ID!) { pauseSession(id: $id) { id } }`,
      { id: client.sessionId },
      alice,
    );
    const paused = await scrape(gw);
    expect(value(paused, 'sync_sessions{state="INACTIVE",connection="CONNECTED"}')).toBe(1);
    expect(value(paused, 'sync_sessions{state="ACTIVE",connection="CONNECTED"}')).toBe(0);
    client.stopDownload();
    events();
    await vi.waitFor(async () => {
      const s = await scrape(gw);
      expect([open(s, 'changes'), open(s, 'sessionEvents')]).toEqual([0, 0]);
    });
  });

  it('keeps the metrics of two gateways in one process apart', async () => {
    const [a, b] = [await start(), await start()];
    const alice = await a.token('alice');
    const sessionId = await openOverHttp(a, alice, 'a1');
    const before = [await scrape(a), await scrape(b)];
    await upload(a, alice, sessionId, [
      { clientVersion: 1, timestamp: hlc(), changes: [insert('c1', 'alice')] },
    ]);
    const key = 'sync_uploads_total{outcome="integrated"}';
    expect(value(await scrape(a), key) - value(before[0]!, key)).toBe(1);
    expect(value(await scrape(b), key) - value(before[1]!, key)).toBe(0);
  });
});

describe('the metrics token (METRICS_TOKEN)', () => {
  it('refuses a scrape without the bearer token, and answers one with it', async () => {
    const gw = await start({ env: { METRICS_TOKEN: 'scrape-me' } });
    const none = await fetch(metricsUrl(gw));
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const headers = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });
    expect((await fetch(metricsUrl(gw), headers('scrape-you'))).status).toBe(401);
    const right = await fetch(metricsUrl(gw), headers('scrape-me'));
    expect(right.status).toBe(200);
    expect(parseExposition(await right.text()).has('sync_changes_integrated_total')).toBe(true);
  });
});
