/**
 * GraphiQL served like a static file. The page comes from the bundle in
 * @graphql-yoga/render-graphiql (its JS, CSS, editor workers and favicon are inlined, so
 * nothing is fetched from a CDN): about 9 MB, loaded on the first GraphiQL request, not at
 * startup. It depends only on its options, so it is rendered once, hashed, and compressed
 * once per coding (brotli, gzip; in zlib's thread pool, off the event loop), and every
 * request gets the kept bytes:
 *
 * - `Content-Encoding` by the request's Accept-Encoding (br, else gzip, else none):
 *   about 1.9 MB in brotli, 2.4 MB in gzip, instead of 9 MB;
 * - `ETag` (the page's hash, with the coding: each representation has its own) and
 *   `304 Not Modified` on a matching If-None-Match;
 * - `Cache-Control: public, max-age=0, must-revalidate`: the page's URL is the GraphQL
 *   endpoint, which cannot carry a version, so a browser keeps the page and asks each time
 *   whether it is still current (a 304 of a few hundred bytes, until the gateway's version
 *   or GraphiQL's options change the page). For the browser to keep it, GraphiQL sends its
 *   operations to `/graphql?` and leaves the page's URL alone (see useGraphiQLPage).
 *
 * Yoga renders GraphiQL in its own plugin, before any plugin of ours, and gives its
 * renderer neither the request nor the response headers; so Yoga's GraphiQL is off and
 * this plugin answers the same requests (GET at the GraphQL path, accepting text/html).
 */
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { brotliCompress, constants as zlib, gzip } from 'node:zlib';
import type { GraphiQLOptions, Plugin } from 'graphql-yoga';
import { withPageLoadTime } from './graphiql-tabs.js';
import { codingWeights, matchesETag } from './content-negotiation.js';

export type ContentCoding = 'br' | 'gzip' | 'identity';

export const GRAPHIQL_CACHE_CONTROL = 'public, max-age=0, must-revalidate';

const brotli = promisify(brotliCompress);
const gzipped = promisify(gzip);

/**
 * Brotli at quality 7 with a 16 MB window: within 2 % of quality 9 (1.88 MB against
 * 1.85 MB) in a quarter of the time (0.5 s against 2 s); quality 11 would take 20 s.
 */
const COMPRESS: Record<Exclude<ContentCoding, 'identity'>, (page: Buffer) => Promise<Buffer>> = {
  br: (page) =>
    brotli(page, {
      params: {
        [zlib.BROTLI_PARAM_QUALITY]: 7,
        [zlib.BROTLI_PARAM_LGWIN]: 24,
        [zlib.BROTLI_PARAM_MODE]: zlib.BROTLI_MODE_TEXT,
        [zlib.BROTLI_PARAM_SIZE_HINT]: page.length,
      },
    }),
  gzip: (page) => gzipped(page, { level: 9 }),
};

/** Codings in order of preference when a request accepts several alike. */
const PREFERENCE = ['br', 'gzip'] as const;

/**
 * The coding to answer in, from an Accept-Encoding header (RFC 9110, 12.5.3): the most
 * wanted of br and gzip (`x-gzip` is gzip, `*` any), unless identity is wanted more; with
 * neither acceptable, no coding.
 */
export function chooseCoding(acceptEncoding: string | null): ContentCoding {
  if (!acceptEncoding) return 'identity';
  const weights = codingWeights(acceptEncoding);
  const weightOf = (coding: string) => weights.get(coding) ?? weights.get('*') ?? 0;
  let best: ContentCoding = 'identity';
  let bestWeight = 0;
  for (const coding of PREFERENCE) {
    const weight = weightOf(coding);
    if (weight > bestWeight) [best, bestWeight] = [coding, weight];
  }
  const identity = weights.get('identity');
  return identity !== undefined && identity > bestWeight ? 'identity' : best;
}

/** The rendered page: its hash and its bytes in each coding, each made once. */
export class GraphiQLPage {
  readonly hash: string;
  private readonly bodies = new Map<ContentCoding, Promise<Buffer>>();

  constructor(html: string) {
    const identity = Buffer.from(html, 'utf8');
    this.hash = createHash('sha256').update(identity).digest('base64url').slice(0, 27);
    this.bodies.set('identity', Promise.resolve(identity));
  }

  etag(coding: ContentCoding): string {
    return coding === 'identity' ? `"${this.hash}"` : `"${this.hash}-${coding}"`;
  }

  /** The page in `coding`, compressed on the first call (a failure is tried again next time). */
  body(coding: ContentCoding): Promise<Buffer> {
    let body = this.bodies.get(coding);
    if (!body) {
      if (coding === 'identity') throw new Error('the page has its identity body');
      const made = this.body('identity').then(COMPRESS[coding]);
      made.catch(() => {
        if (this.bodies.get(coding) === made) this.bodies.delete(coding);
      });
      this.bodies.set(coding, made);
      body = made;
    }
    return body;
  }

  /** Starts compressing in every coding, so the first request of each finds it ready. */
  prepare(): void {
    for (const coding of PREFERENCE) this.body(coding).catch(() => {});
  }
}

/** GraphiQL's page from the local bundle, with the page's load time in the example tabs. */
export async function renderLocalGraphiQL(options: GraphiQLOptions): Promise<string> {
  const { renderGraphiQL } = await import('@graphql-yoga/render-graphiql');
  return withPageLoadTime(renderGraphiQL(options));
}

export type GraphiQLRender = (options: GraphiQLOptions) => Promise<string>;

/**
 * One page per renderer for all the gateways of this process (tests start many): the last
 * options rendered. A failed render is not kept: the next request tries again.
 */
const pages = new Map<GraphiQLRender, { key: string; page: Promise<GraphiQLPage> }>();
function pageFor(options: GraphiQLOptions, render: GraphiQLRender): Promise<GraphiQLPage> {
  const key = JSON.stringify(options);
  const cached = pages.get(render);
  if (cached?.key === key) return cached.page;
  const page = render(options).then((html) => {
    const rendered = new GraphiQLPage(html);
    rendered.prepare();
    return rendered;
  });
  pages.set(render, { key, page });
  page.catch(() => {
    if (pages.get(render)?.page === page) pages.delete(render);
  });
  return page;
}

export interface GraphiQLPageOptions {
  /** The GraphQL path, where GraphiQL answers a browser's GET. */
  endpoint: string;
  options: GraphiQLOptions;
  /** Renders the page (the local bundle by default). */
  render?: GraphiQLRender;
  /** Told of a page that could not be rendered (the request gets a 500). */
  onError?: (error: unknown) => void;
}

/** Whether Yoga would render GraphiQL for this request (its rule, at our endpoint). */
function wantsGraphiQL(request: Request, url: URL, endpoint: string): boolean {
  if (request.method !== 'GET') return false;
  if (!request.headers.get('accept')?.includes('text/html')) return false;
  return url.pathname === endpoint || url.pathname === `${endpoint}/`;
}

async function respond(
  request: Request,
  page: GraphiQLPage,
  fetchAPI: { Response: typeof Response },
): Promise<Response> {
  const coding = chooseCoding(request.headers.get('accept-encoding'));
  const headers: Record<string, string> = {
    ETag: page.etag(coding),
    'Cache-Control': GRAPHIQL_CACHE_CONTROL,
    // The same URL answers GraphQL over GET, and each coding is its own representation.
    Vary: 'Accept, Accept-Encoding',
  };
  if (matchesETag(request.headers.get('if-none-match'), headers.ETag!)) {
    return new fetchAPI.Response(null, { status: 304, headers });
  }
  const body = await page.body(coding);
  return new fetchAPI.Response(
    new Uint8Array(body.buffer as ArrayBuffer, body.byteOffset, body.byteLength),
    {
      status: 200,
      headers: {
        ...headers,
        'Content-Type': 'text/html; charset=utf-8',
        'Content-Length': String(body.byteLength),
        'X-Content-Type-Options': 'nosniff',
        ...(coding === 'identity' ? {} : { 'Content-Encoding': coding }),
      },
    },
  );
}

/**
 * Yoga's GraphiQL writes the open operation into the page's URL (`?query=`) at every edit
 * and tab switch, so every reload would be a new URL for the browser's cache, downloaded
 * again. Its handler is an option GraphiQL calls only if set: null leaves the URL as it is,
 * and a reload revalidates (304). A link with `?query=` still opens that operation.
 */
const KEEP_THE_URL = { onEditQuery: null } as GraphiQLOptions;

/**
 * A browser drops its cached page when a POST goes to the page's URL (RFC 9111, 4.4: an
 * unsafe method invalidates its target), and GraphiQL POSTs every operation, introspection
 * first, to the GraphQL path, the page's own URL. Sent to the same path with an empty
 * query (`/graphql?`, another URL for the cache, the same for Yoga and graphql-ws), they
 * leave the page cached.
 */
const operationsEndpoint = (path: string): GraphiQLOptions => ({ endpoint: `${path}?` });

/** Serves GraphiQL's page compressed, with an ETag and revalidation (see above). */
export function useGraphiQLPage(config: GraphiQLPageOptions): Plugin {
  const render = config.render ?? renderLocalGraphiQL;
  const options = { ...operationsEndpoint(config.endpoint), ...config.options, ...KEEP_THE_URL };
  return {
    async onRequest({ request, url, fetchAPI, endResponse }) {
      if (!wantsGraphiQL(request, url, config.endpoint)) return;
      let response: Response;
      try {
        response = await respond(request, await pageFor(options, render), fetchAPI);
      } catch (error) {
        config.onError?.(error);
        response = new fetchAPI.Response('GraphiQL could not be loaded; see the gateway log.', {
          status: 500,
          headers: { 'Content-Type': 'text/plain; charset=utf-8' },
        });
      }
      endResponse(response);
    },
  };
}
