/**
 * The admin page, `GET /admin`: the sync sessions, live, for a person holding an admin token.
 * Static files (admin/admin.html, admin.css, admin.js) that use the public GraphQL API only,
 * over graphql-ws on the same origin; see admin/admin.js for what it does and how.
 *
 * The files travel inside the code as strings (admin/assets.ts, written by admin/embed.ts):
 * tsc copies nothing but .ts into dist/, and the package ships dist/ only, so nothing is
 * looked up on disk. At the first request each is hashed and gzipped, once.
 *
 * Headers: a strict Content-Security-Policy (scripts, styles and connections to this origin
 * only; WebSockets to any, the page opening one to its own origin), `nosniff`, no framing,
 * no referrer. The page is revalidated on every load (ETag); it names its script and style
 * with a `?v=` of their hash, and those versioned URLs are cached for a year.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';
import { ADMIN_FILES } from './admin/assets.js';
import { requestPath } from './request-path.js';
import { codingWeights, matchesETag } from './content-negotiation.js';

export const ADMIN_CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "connect-src 'self' ws: wss:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS: OutgoingHttpHeaders = {
  'content-security-policy': ADMIN_CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

const IMMUTABLE = 'public, max-age=31536000, immutable';

interface Asset {
  type: string;
  identity: Buffer;
  gzipped: Buffer;
  /** The first 16 hex digits of the content's SHA-256: the ETag and the `?v=`. */
  hash: string;
  /** Linked with `?v=`: cached for a year when asked for with its hash. */
  versioned: boolean;
}

function asset(text: string, type: string, versioned: boolean): Asset {
  const identity = Buffer.from(text, 'utf8');
  const hash = createHash('sha256').update(identity).digest('hex').slice(0, 16);
  return { type, identity, gzipped: gzipSync(identity, { level: 9 }), hash, versioned };
}

/** The page with its script and style named by version. */
function page(css: Asset, js: Asset): string {
  const html = ADMIN_FILES['admin.html'];
  const versioned = html
    .replace('href="/admin/admin.css"', `href="/admin/admin.css?v=${css.hash}"`)
    .replace('src="/admin/admin.js"', `src="/admin/admin.js?v=${js.hash}"`);
  if (!versioned.includes(css.hash) || !versioned.includes(js.hash)) {
    throw new Error('admin.html no longer links /admin/admin.css and /admin/admin.js');
  }
  return versioned;
}

let assets: Map<string, Asset> | undefined;

/** The files by path, prepared at the first request. */
function prepared(): Map<string, Asset> {
  if (assets) return assets;
  const css = asset(ADMIN_FILES['admin.css'], 'text/css; charset=utf-8', true);
  const js = asset(ADMIN_FILES['admin.js'], 'text/javascript; charset=utf-8', true);
  const html = asset(page(css, js), 'text/html; charset=utf-8', false);
  assets = new Map([
    ['/admin', html],
    ['/admin/', html],
    ['/admin/admin.css', css],
    ['/admin/admin.js', js],
  ]);
  return assets;
}

/** Whether `Accept-Encoding` takes gzip (by name or `*`, with a q above 0). */
export function acceptsGzip(header: string | string[] | undefined): boolean {
  const weights = codingWeights(Array.isArray(header) ? header.join(',') : (header ?? null));
  const gzip = weights.get('gzip') ?? weights.get('*');
  return gzip !== undefined && gzip > 0;
}

function answer(res: ServerResponse, status: number, headers: OutgoingHttpHeaders, body = '') {
  const buffer = Buffer.from(body, 'utf8');
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'content-type': 'text/plain; charset=utf-8',
    'content-length': buffer.length,
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(buffer);
}

/**
 * Answers `GET` and `HEAD` of `/admin` (the page) and its files under `/admin/` (true);
 * anything else under `/admin/` is 404, other methods 405. False for every other path.
 */
export function handleAdmin(req: IncomingMessage, res: ServerResponse): boolean {
  const path = requestPath(req);
  if (path !== '/admin' && !path.startsWith('/admin/')) return false;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    answer(res, 405, { allow: 'GET, HEAD' }, 'Method not allowed\n');
    return true;
  }
  const file = prepared().get(path);
  if (!file) {
    answer(res, 404, {}, 'Not found\n');
    return true;
  }
  const gzip = acceptsGzip(req.headers['accept-encoding']);
  const body = gzip ? file.gzipped : file.identity;
  const etag = `"${file.hash}${gzip ? '-gz' : ''}"`;
  const query = (req.url ?? '').slice(path.length + 1);
  const version = query ? new URLSearchParams(query).get('v') : null;
  const headers: OutgoingHttpHeaders = {
    ...SECURITY_HEADERS,
    'cache-control': file.versioned && version === file.hash ? IMMUTABLE : 'no-cache',
    etag,
    vary: 'Accept-Encoding',
  };
  if (matchesETag(req.headers['if-none-match'], etag)) {
    res.writeHead(304, headers);
    res.end();
    return true;
  }
  res.writeHead(200, {
    ...headers,
    'content-type': file.type,
    'content-length': body.length,
    ...(gzip ? { 'content-encoding': 'gzip' } : {}),
  });
  res.end(req.method === 'HEAD' ? undefined : body);
  return true;
}
