/**
 * Production defaults and the limits on an operation: GraphiQL and introspection off with
 * NODE_ENV=production (on in development), graphql-armor's limits (aliases, directives,
 * tokens, depth, cost) with field suggestions hidden, a field repeated over and over
 * refused, the largest page of sessions within the cost limit, and CSRF prevention (GETs and
 * form-like POSTs need a preflight header; JSON POSTs and graphql-ws do not).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPERATION_LIMITS } from '../src/server/yoga.js';
import {
  startTestGateway,
  wsRequest,
  type GqlResult,
  type TestGateway,
} from './helpers/gateway.js';

async function post(gw: TestGateway, body: unknown, headers: Record<string, string> = {}) {
  return fetch(gw.gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

const firstError = (r: GqlResult) => r.errors?.[0]?.message ?? '';

describe('with NODE_ENV=production', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ env: { NODE_ENV: 'production' } });
  });
  afterAll(() => gw?.close());

  it('serves no GraphiQL page to a browser', async () => {
    const response = await fetch(gw.gateway.url, { headers: { accept: 'text/html' } });
    expect(response.status).not.toBe(200);
    expect(response.headers.get('content-type') ?? '').not.toContain('text/html');
    expect(await response.text()).not.toContain('GraphiQL');
  });

  it('refuses __schema and __type with a clear error, and still answers __typename', async () => {
    for (const query of ['{ __schema { types { name } } }', '{ __type(name: "Query") { name } }']) {
      const result = await gw.http(query);
      expect(result.data ?? null).toBeNull();
      expect(firstError(result)).toMatch(/introspection has been disabled/);
    }
    expect((await gw.http('{ __typename }')).data).toEqual({ __typename: 'Query' });
  });

  it('hides field suggestions', async () => {
    const result = await gw.http('{ sesions { edges { cursor } } }');
    expect(firstError(result)).toMatch(/Cannot query field "sesions"/);
    expect(firstError(result)).not.toMatch(/Did you mean/);
  });
});

describe('in development', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ env: { NODE_ENV: 'development' } });
  });
  afterAll(() => gw?.close());

  it('serves GraphiQL and answers introspection', async () => {
    const page = await fetch(gw.gateway.url, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    const result = await gw.http<{ __schema: { queryType: { name: string } } }>(
      '{ __schema { queryType { name } } }',
    );
    expect(result.data?.__schema.queryType.name).toBe('Query');
  });

  it('GraphiQL and introspection follow their flags', async () => {
    await using off = await startTestGateway({
      env: { NODE_ENV: 'development', GRAPHIQL: 'false', INTROSPECTION: 'false' },
    });
    const page = await fetch(off.gateway.url, { headers: { accept: 'text/html' } });
    expect(await page.text()).not.toContain('GraphiQL');
    expect(firstError(await off.http('{ __schema { queryType { name } } }'))).toMatch(
      /introspection has been disabled/,
    );
  });
});

describe('the limits on an operation', () => {
  let gw: TestGateway;
  let alice: string;
  beforeAll(async () => {
    gw = await startTestGateway();
    alice = await gw.token('alice');
  });
  afterAll(() => gw?.close());

  it('refuses a field repeated 500 times (field duplication), and takes a few repeats', async () => {
    const result = await gw.http(`query cop { ${'__typename\n'.repeat(500)} }`);
    expect(result.data ?? null).toBeNull();
    expect(firstError(result)).toMatch(/__typename: selected more than \d+ times/);
    expect((await gw.http('{ __typename __typename }')).data).toEqual({ __typename: 'Query' });
  });

  it('refuses a fragment spread repeated past the limit', async () => {
    const spreads = '...F '.repeat(OPERATION_LIMITS.maxRepeats + 1);
    const result = await gw.http(`{ ${spreads} } fragment F on Query { __typename }`);
    expect(firstError(result)).toMatch(/\.\.\.F: selected more than/);
  });

  it('refuses too many aliases (of __typename too), directives and tokens', async () => {
    const aliases = Array.from({ length: 101 }, (_, i) => `a${i}: __typename`).join(' ');
    const overloaded = await gw.http(`{ ${aliases} }`);
    expect(overloaded.data ?? null).toBeNull();
    expect(firstError(overloaded)).toMatch(/Aliases limit/);
    const directives = '@include(if: true)'.repeat(10);
    expect(firstError(await gw.http(`{ __typename ${directives} }`))).toMatch(/Directives limit/);
    const tokens = Array.from({ length: 600 }, (_, i) => `a${i}: __typename`).join(' ');
    expect(firstError(await gw.http(`{ ${tokens} }`))).toMatch(/Token limit/);
  });

  it('a refusal over graphql-ws answers the operation and leaves the socket open', async () => {
    const ws = gw.ws(alice);
    const closes: number[] = [];
    ws.on('closed', (event) => closes.push((event as { code: number }).code));
    const aliases = Array.from({ length: 31 }, (_, i) => `a${i}: __typename`).join(' ');
    const refused = (await wsRequest(ws, `{ ${aliases} }`).catch((e: unknown) => e)) as {
      message: string;
    }[];
    expect(refused[0]?.message).toMatch(/Aliases limit of 30 exceeded/);
    expect(closes).not.toContain(4500);
  });

  it('a page of 500 sessions with every field fits the cost limit; three do not', async () => {
    const fields = `id clientId user { id } lastIntegratedClientVersion lastDownloadedServerVersion
      queries { collection filter } queriesVersion resetRequired lastSyncedAt state connectionState
      pausedDirections pausedUntil latestClientVersion closed createdAt`;
    const page = `sessions(first: 500) { edges { cursor node { ${fields} } } pageInfo { hasNextPage endCursor } }`;
    const one = await gw.http<{ sessions: { edges: unknown[] } }>(`{ ${page} }`, {}, alice);
    expect(one.errors).toBeUndefined();
    expect(one.data?.sessions.edges).toEqual([]);
    const typical = '{ sessions(first: 500) { edges { node { id state lastSyncedAt } } } }';
    expect((await gw.http(typical, {}, alice)).errors).toBeUndefined();
    const three = await gw.http(`{ a: ${page} b: ${page} c: ${page} }`, {}, alice);
    expect(three.data ?? null).toBeNull();
    expect(firstError(three)).toMatch(/Cost limit/);
  });
});

describe('CSRF prevention', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway();
  });
  afterAll(() => gw?.close());

  const query = encodeURIComponent('{ __typename }');

  it('refuses a GET without a preflight header, and takes one with it', async () => {
    const refused = await fetch(`${gw.gateway.url}?query=${query}`);
    expect(refused.status).toBe(403);
    expect(firstError((await refused.json()) as GqlResult)).toMatch(/CSRF/);
    const accepted = await fetch(`${gw.gateway.url}?query=${query}`, {
      headers: { 'x-graphql-csrf': '1' },
    });
    expect(accepted.status).toBe(200);
    expect(await accepted.json()).toEqual({ data: { __typename: 'Query' } });
  });

  it('refuses form-like POSTs (url-encoded, text/plain, multipart, none) without the header', async () => {
    const body = JSON.stringify({ query: '{ __typename }' });
    const sent = [
      { 'content-type': 'application/x-www-form-urlencoded', body: `query=${query}` },
      { 'content-type': 'text/plain', body },
      { 'content-type': 'multipart/form-data; boundary=x', body },
    ];
    for (const { body: text, ...headers } of sent) {
      const response = await post(gw, text, headers);
      expect(response.status).toBe(403);
    }
    const bare = await fetch(gw.gateway.url, { method: 'POST', body: new Uint8Array([1]) });
    expect(bare.status).toBe(403);
  });

  it('takes JSON POSTs and graphql-ws operations', async () => {
    const response = await post(gw, { query: '{ __typename }' });
    expect(response.status).toBe(200);
    const ws = gw.ws(await gw.token('alice'));
    expect(await wsRequest(ws, '{ __typename }')).toEqual({ data: { __typename: 'Query' } });
  });
});
