/**
 * GraphiQL served like a static file, through a real gateway: brotli or gzip by
 * Accept-Encoding (the bytes on the wire counted, and decompressed back to the page), an
 * ETag per representation with 304 on If-None-Match, Cache-Control and Vary; the page is
 * rendered and compressed once; and it opens on the example tabs, which run in order
 * against the gateway as they stand (the session id pasted from the first one).
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { parse, validate } from 'graphql';
import { createYoga } from 'graphql-yoga';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { matchesETag } from '../src/server/content-negotiation.js';
import { chooseCoding, GRAPHIQL_CACHE_CONTROL, useGraphiQLPage } from '../src/server/graphiql.js';
import {
  GRAPHIQL_TABS,
  hlcOf,
  PAGE_LOAD_HLC,
  SESSION_ID_PLACEHOLDER,
  withPageLoadTime,
} from '../src/server/graphiql-tabs.js';
import { schema } from '../src/server/schema.js';
import { startTestGateway, wsRequest, type TestGateway } from './helpers/gateway.js';

interface Raw {
  status: number;
  headers: IncomingHttpHeaders;
  /** The bytes as sent, before any decoding. */
  body: Buffer;
}

/** A GET of the page over plain node:http, which decodes nothing. */
function get(url: string, headers: Record<string, string>): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers: { accept: 'text/html', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const TAB_NAMES = [
  'OpenSession',
  'UploadChangeset',
  'FollowChanges',
  'AcknowledgeDownload',
  'WatchProgress',
  'BrowseDocuments',
];

describe('GraphiQL served compressed and cacheable', () => {
  let gw: TestGateway;
  let identity: Raw;

  beforeAll(async () => {
    gw = await startTestGateway({ env: { NODE_ENV: 'development' } });
    identity = await get(gw.gateway.url, {});
  }, 60_000);
  afterAll(() => gw?.close());

  it('sends the page uncompressed to a client that accepts no coding', () => {
    expect(identity.status).toBe(200);
    expect(identity.headers['content-encoding']).toBeUndefined();
    expect(identity.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(Number(identity.headers['content-length'])).toBe(identity.body.length);
    expect(identity.body.length).toBeGreaterThan(8_000_000);
    expect(identity.body.toString()).toContain('<title>GraphQL sync gateway</title>');
  });

  it('sends brotli or gzip by Accept-Encoding: a fifth to a quarter of the bytes', async () => {
    const chrome = await get(gw.gateway.url, { 'accept-encoding': 'gzip, deflate, br, zstd' });
    expect(chrome.status).toBe(200);
    expect(chrome.headers['content-encoding']).toBe('br');
    expect(Number(chrome.headers['content-length'])).toBe(chrome.body.length);
    expect(chrome.body.length).toBeLessThan(identity.body.length * 0.22);
    expect(brotliDecompressSync(chrome.body).equals(identity.body)).toBe(true);

    const gzip = await get(gw.gateway.url, { 'accept-encoding': 'gzip' });
    expect(gzip.headers['content-encoding']).toBe('gzip');
    expect(gzip.body.length).toBeLessThan(identity.body.length * 0.28);
    expect(gunzipSync(gzip.body).equals(identity.body)).toBe(true);

    // The same kept bytes every time.
    const again = await get(gw.gateway.url, { 'accept-encoding': 'br' });
    expect(again.body.equals(chrome.body)).toBe(true);
  });

  it('has an ETag per representation, and answers 304 without a body to a matching If-None-Match', async () => {
    const br = await get(gw.gateway.url, { 'accept-encoding': 'br' });
    const gzip = await get(gw.gateway.url, { 'accept-encoding': 'gzip' });
    const tags = [identity, br, gzip].map((r) => r.headers.etag);
    expect(tags.every((t) => /^"[A-Za-z0-9_-]{20,}(-br|-gzip)?"$/.test(t ?? ''))).toBe(true);
    expect(new Set(tags).size).toBe(3);
    for (const response of [identity, br, gzip]) {
      expect(response.headers['cache-control']).toBe(GRAPHIQL_CACHE_CONTROL);
      expect(response.headers.vary).toBe('Accept, Accept-Encoding');
    }

    const revalidated = await get(gw.gateway.url, {
      'accept-encoding': 'br',
      'if-none-match': br.headers.etag!,
    });
    expect(revalidated.status).toBe(304);
    expect(revalidated.body.length).toBe(0);
    expect(revalidated.headers.etag).toBe(br.headers.etag);
    expect(revalidated.headers['cache-control']).toBe(GRAPHIQL_CACHE_CONTROL);
    expect(revalidated.headers.vary).toBe('Accept, Accept-Encoding');

    // A weak tag, or one in a list, matches too; another representation's does not.
    const weak = await get(gw.gateway.url, {
      'accept-encoding': 'br',
      'if-none-match': `"old", W/${br.headers.etag!}`,
    });
    expect(weak.status).toBe(304);
    const other = await get(gw.gateway.url, {
      'accept-encoding': 'br',
      'if-none-match': gzip.headers.etag!,
    });
    expect(other.status).toBe(200);
    expect(other.headers['content-encoding']).toBe('br');
  });

  it('leaves GraphQL over GET and POST at the same path alone', async () => {
    const response = await fetch(`${gw.gateway.url}?query=%7B__typename%7D`, {
      headers: { accept: 'application/json', 'x-graphql-csrf': '1' },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: { __typename: 'Query' } });
    expect(response.headers.get('etag')).toBeNull();
    expect((await gw.http('{ __typename }')).data).toEqual({ __typename: 'Query' });
  });

  it("answers GraphiQL's operations at /graphql? over HTTP and graphql-ws", async () => {
    const response = await fetch(`${gw.gateway.url}?`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(await response.json()).toEqual({ data: { __typename: 'Query' } });
    const client = createClient({
      url: `${gw.gateway.wsUrl}?`,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
    });
    try {
      expect(await wsRequest(client, '{ __typename }')).toEqual({ data: { __typename: 'Query' } });
    } finally {
      await client.dispose();
    }
  });

  it('opens on the example tabs, in order, with the page load time as the timestamp', () => {
    const page = identity.body.toString();
    const html = page.slice(page.lastIndexOf('YogaGraphiQL.renderYogaGraphiQL('));
    const names = [...html.matchAll(/\\n(?:mutation|subscription|query) (\w+)/g)].map((m) => m[1]);
    expect(names).toEqual(TAB_NAMES);
    expect(html).toContain('"defaultTabs":[');
    expect(html).toContain('"defaultEditorToolsVisibility":"variables"');
    // The open operation is not written into the URL (a new URL for the cache each time).
    expect(html).toContain('"onEditQuery":null');
    // Operations go to `/graphql?`: a POST to the page's own URL would drop it from the cache.
    expect(html).toContain('"endpoint":"/graphql?"');
    expect(html).not.toContain(PAGE_LOAD_HLC);
    expect(html).toContain('\\"timestamp\\": \\"" + new Date().toISOString() + "-0000\\"');
    expect(html).toContain('acts as the user \\"dev\\"');
  });
});

describe('the example tabs', () => {
  it('are valid operations of the schema, with variables that parse, none on the first', () => {
    // GraphiQL 5 leaves the first tab's variables out of the editor (graphql/graphiql#3392).
    expect(GRAPHIQL_TABS[0]!.variables ?? null).toBeNull();
    for (const tab of GRAPHIQL_TABS) {
      const comments = tab.query!.split('\n').filter((line) => line.startsWith('#'));
      for (const line of comments) expect(line.length).toBeLessThanOrEqual(60);
    }
    expect(
      GRAPHIQL_TABS.map((t) => /(?:mutation|subscription|query) (\w+)/.exec(t.query!)?.[1]),
    ).toEqual(TAB_NAMES);
    for (const tab of GRAPHIQL_TABS) {
      expect(validate(schema, parse(tab.query!))).toEqual([]);
      if (tab.variables != null) expect(() => JSON.parse(tab.variables!)).not.toThrow();
    }
  });

  it('run in order against a new gateway as user "dev", the session id pasted from the first', async () => {
    await using gw = await startTestGateway();
    const token = await gw.token('dev');
    const socket = gw.ws(token);
    let sessionId = SESSION_ID_PLACEHOLDER;
    const variablesOf = (index: number) => {
      const text = (GRAPHIQL_TABS[index]!.variables ?? '{}').replace(
        PAGE_LOAD_HLC,
        hlcOf(new Date()),
      );
      return JSON.parse(text.replaceAll(SESSION_ID_PLACEHOLDER, sessionId)) as Record<
        string,
        unknown
      >;
    };
    const run = async (index: number) => {
      const query = GRAPHIQL_TABS[index]!.query!;
      const result = query.includes('subscription ')
        ? await wsRequest(socket, query, variablesOf(index))
        : await gw.http(query, variablesOf(index), token);
      expect(result.errors).toBeUndefined();
      return result.data as Record<string, Record<string, unknown>>;
    };

    const opened = await run(0);
    expect(opened.openSession).toMatchObject({ clientId: 'graphiql-demo', state: 'ACTIVE' });
    sessionId = opened.openSession!.id as string;

    const uploaded = await run(1);
    expect(uploaded.uploadChanges).toEqual({
      lastIntegratedClientVersion: 1,
      serverVersion: 1,
      compensatingWrites: [],
    });

    // FollowChanges keeps running: its first batch, then stop (as GraphiQL's Stop button).
    const batch = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const stop = socket.subscribe(
        { query: GRAPHIQL_TABS[2]!.query!, variables: variablesOf(2) },
        {
          next: (value) => {
            stop();
            if (value.errors) reject(new Error(JSON.stringify(value.errors)));
            else resolve((value.data as { changes: Record<string, unknown> }).changes);
          },
          error: reject,
          complete: () => {},
        },
      );
    });
    expect(batch).toMatchObject({ fromServerVersion: 0, toServerVersion: 1, queriesVersion: 0 });
    expect(batch.changes).toEqual([
      {
        op: 'UPSERT',
        collection: 'todos',
        id: 'todo-1',
        document: { _id: 'todo-1', text: 'Try the sync gateway', done: false, ownerId: 'dev' },
      },
    ]);
    // The acknowledgement's defaults are what a new gateway's first batch says.
    expect(variablesOf(3)).toMatchObject({
      serverVersion: batch.toServerVersion,
      queriesVersion: batch.queriesVersion,
    });

    const acknowledged = await run(3);
    expect(acknowledged.acknowledgeDownload).toMatchObject({ lastDownloadedServerVersion: 1 });

    const progress = await run(4);
    expect(progress.progress).toMatchObject({ direction: 'DOWNLOAD', progressEstimate: 1 });

    const documents = await run(5);
    expect(documents.documents).toEqual({
      edges: [
        { node: { _id: 'todo-1', text: 'Try the sync gateway', done: false, ownerId: 'dev' } },
      ],
      pageInfo: { hasNextPage: false, endCursor: expect.any(String) },
    });
  });
});

describe('the page plugin', () => {
  const render = (html: string) => {
    const calls = { count: 0 };
    const fn = async () => {
      calls.count += 1;
      await new Promise((r) => setTimeout(r, 20));
      return html;
    };
    return { calls, fn };
  };
  const yogaWith = (fn: () => Promise<string>, onError?: (e: unknown) => void) =>
    createYoga({
      schema,
      graphiql: false,
      logging: false,
      plugins: [
        useGraphiQLPage({ endpoint: '/graphql', options: { title: 't' }, render: fn, onError }),
      ],
    });
  const page = (yoga: ReturnType<typeof yogaWith>, encoding = 'br') =>
    yoga.fetch('http://localhost/graphql', {
      headers: { accept: 'text/html', 'accept-encoding': encoding },
    });

  it('renders once for requests at the same time, and compresses once per coding', async () => {
    const { calls, fn } = render('<html>' + 'GraphiQL '.repeat(10_000) + '</html>');
    const yoga = yogaWith(fn);
    const responses = await Promise.all([
      page(yoga),
      page(yoga),
      page(yoga, 'gzip'),
      page(yoga, ''),
    ]);
    expect(calls.count).toBe(1);
    expect(responses.map((r) => r.headers.get('content-encoding'))).toEqual([
      'br',
      'br',
      'gzip',
      null,
    ]);
    const etags = responses.map((r) => r.headers.get('etag'));
    expect(etags[0]).toBe(etags[1]);
    expect(new Set(etags).size).toBe(3);
  });

  it('answers 500 when the page cannot be rendered, and renders again at the next request', async () => {
    let fail = true;
    const errors: unknown[] = [];
    const yoga = yogaWith(
      async () => {
        if (fail) throw new Error('bundle missing');
        return '<html>ok</html>';
      },
      (e) => errors.push(e),
    );
    const failed = await page(yoga, '');
    expect(failed.status).toBe(500);
    expect(errors).toHaveLength(1);
    fail = false;
    const served = await page(yoga, '');
    expect(served.status).toBe(200);
    expect(await served.text()).toBe('<html>ok</html>');
  });
});

describe('content negotiation', () => {
  it.each([
    [null, 'identity'],
    ['', 'identity'],
    ['identity', 'identity'],
    ['gzip', 'gzip'],
    ['x-gzip', 'gzip'],
    ['br', 'br'],
    ['gzip, deflate, br, zstd', 'br'],
    ['gzip;q=1, br;q=0.5', 'gzip'],
    ['br;q=0, gzip', 'gzip'],
    ['br;q=0, gzip;q=0', 'identity'],
    ['*', 'br'],
    ['*;q=0.5, br;q=0', 'gzip'],
    ['deflate', 'identity'],
    ['gzip;q=0.5, identity', 'identity'],
    ['BR;Q=0.9, GZIP;Q=0.8', 'br'],
  ])('Accept-Encoding %j answers %s', (header, coding) => {
    expect(chooseCoding(header)).toBe(coding);
  });

  it('matches If-None-Match by weak comparison, * included', () => {
    expect(matchesETag('"a"', '"a"')).toBe(true);
    expect(matchesETag('W/"a"', '"a"')).toBe(true);
    expect(matchesETag('"b", "a"', '"a"')).toBe(true);
    expect(matchesETag('*', '"a"')).toBe(true);
    expect(matchesETag('"a-br"', '"a"')).toBe(false);
    expect(matchesETag(null, '"a"')).toBe(false);
  });

  it('puts the render time in a page that does not have the placeholder once', () => {
    const at = new Date('2026-11-26T19:55:08.123Z');
    expect(withPageLoadTime(`a ${PAGE_LOAD_HLC} b ${PAGE_LOAD_HLC}`, at)).toBe(
      'a 2026-11-26T19:55:08.123Z-0000 b 2026-11-26T19:55:08.123Z-0000',
    );
    expect(withPageLoadTime(`"x${PAGE_LOAD_HLC}y"`, at)).toBe(
      '"x" + new Date().toISOString() + "-0000y"',
    );
  });
});
