/**
 * handleAdmin (src/server/admin-page.ts) serves the admin page and its two files with their
 * content types, a strict CSP, cache headers and gzip when asked; 404s other paths under
 * /admin/ and leaves every other path alone. The files are found from the sources (tsx)
 * and from what tsc emits (dist/), where no .html, .css or .js file is copied: they travel
 * in admin/assets.ts, which must match the files.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  acceptsGzip,
  ADMIN_CONTENT_SECURITY_POLICY,
  handleAdmin,
} from '../src/server/admin-page.js';
import { ASSETS_FILE, embeddedSource } from '../src/server/admin/embed.js';

const ROOT = resolve(import.meta.dirname, '..');
const source = (name: string) => readFileSync(join(ROOT, 'src/server/admin', name), 'utf8');

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** One request with exactly these headers (fetch would add and undo gzip by itself). */
function get(
  port: number,
  path: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<Answer> {
  return new Promise((done, fail) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        done({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }),
      );
    });
    req.on('error', fail);
    req.end();
  });
}

let server: Server;
let port: number;

beforeAll(async () => {
  server = createServer((req, res) => {
    if (handleAdmin(req, res)) return;
    res.writeHead(418, { 'content-type': 'text/plain' });
    res.end('not mine');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

const linked = (html: string, file: string) =>
  new RegExp(`"(/admin/${file.replace('.', '\\.')}\\?v=[0-9a-f]{16})"`).exec(html)?.[1];

describe('the admin page', () => {
  it('is the HTML page at /admin and /admin/, with a strict CSP, revalidated on every load', async () => {
    for (const path of ['/admin', '/admin/', '/admin?x=1']) {
      const page = await get(port, path);
      expect(page.status).toBe(200);
      expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(page.headers['content-security-policy']).toBe(ADMIN_CONTENT_SECURITY_POLICY);
      expect(ADMIN_CONTENT_SECURITY_POLICY).toContain("default-src 'self'");
      expect(ADMIN_CONTENT_SECURITY_POLICY).toContain("connect-src 'self' ws: wss:");
      expect(page.headers['x-content-type-options']).toBe('nosniff');
      expect(page.headers['x-frame-options']).toBe('DENY');
      expect(page.headers['referrer-policy']).toBe('no-referrer');
      expect(page.headers['cache-control']).toBe('no-cache');
      expect(page.headers.etag).toMatch(/^"[0-9a-f]{16}"$/);
      expect(page.headers.vary).toBe('Accept-Encoding');
      expect(page.headers['content-encoding']).toBeUndefined();
      expect(Number(page.headers['content-length'])).toBe(page.body.length);
      const html = page.body.toString();
      expect(html).toContain('<label for="token">Admin token</label>');
      // The page is the file, with its script and style named by version.
      expect(html.replace(/\?v=[0-9a-f]{16}/g, '')).toBe(source('admin.html'));
      // Nothing inline and nothing from another host: the CSP allows neither.
      expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
      expect(html).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
      expect(html).not.toMatch(/(?:src|href)="(?:https?:)?\/\//);
    }
  });

  it('serves its script and style with their types; versioned URLs are cached for a year', async () => {
    const html = (await get(port, '/admin')).body.toString();
    const files = [
      ['admin.js', 'text/javascript; charset=utf-8'],
      ['admin.css', 'text/css; charset=utf-8'],
    ] as const;
    for (const [file, type] of files) {
      const url = linked(html, file);
      expect(url).toBeDefined();
      const versioned = await get(port, url!);
      expect(versioned.status).toBe(200);
      expect(versioned.headers['content-type']).toBe(type);
      expect(versioned.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect(versioned.headers['content-security-policy']).toBe(ADMIN_CONTENT_SECURITY_POLICY);
      expect(versioned.headers['x-content-type-options']).toBe('nosniff');
      expect(versioned.body.toString()).toBe(source(file));
      // Without its version (or an old one), the file is revalidated instead.
      for (const path of [`/admin/${file}`, `/admin/${file}?v=0123456789abcdef`]) {
        const plain = await get(port, path);
        expect(plain.status).toBe(200);
        expect(plain.headers['cache-control']).toBe('no-cache');
        expect(plain.body.toString()).toBe(source(file));
      }
    }
  });

  it('gzips when the client takes gzip, and only then', async () => {
    for (const path of ['/admin', '/admin/admin.js', '/admin/admin.css']) {
      const plain = await get(port, path);
      for (const encoding of ['gzip', 'gzip, deflate, br', 'br;q=1, gzip;q=0.5', '*']) {
        const zipped = await get(port, path, { 'accept-encoding': encoding });
        expect(zipped.headers['content-encoding']).toBe('gzip');
        expect(zipped.headers.vary).toBe('Accept-Encoding');
        expect(zipped.headers.etag).toBe(plain.headers.etag!.replace(/"$/, '-gz"'));
        expect(Number(zipped.headers['content-length'])).toBe(zipped.body.length);
        expect(zipped.body.length).toBeLessThan(plain.body.length);
        expect(gunzipSync(zipped.body).equals(plain.body)).toBe(true);
      }
      for (const encoding of ['identity', 'gzip;q=0', 'br', 'deflate, *;q=0']) {
        const unzipped = await get(port, path, { 'accept-encoding': encoding });
        expect(unzipped.headers['content-encoding']).toBeUndefined();
        expect(unzipped.body.equals(plain.body)).toBe(true);
      }
    }
    expect(acceptsGzip(undefined)).toBe(false);
    expect(acceptsGzip(['br', 'x-gzip'])).toBe(true);
    expect(acceptsGzip('GZIP; Q=0.1')).toBe(true);
  });

  it('answers 304 to a matching If-None-Match, and HEAD without a body', async () => {
    for (const path of ['/admin', '/admin/admin.js']) {
      const first = await get(port, path);
      const again = await get(port, path, { 'if-none-match': first.headers.etag! });
      expect(again.status).toBe(304);
      expect(again.body.length).toBe(0);
      expect(again.headers.etag).toBe(first.headers.etag);
      expect(again.headers['cache-control']).toBe(first.headers['cache-control']);
      const weak = await get(port, path, { 'if-none-match': `"other", W/${first.headers.etag}` });
      expect(weak.status).toBe(304);
      const changed = await get(port, path, { 'if-none-match': '"0000000000000000"' });
      expect(changed.status).toBe(200);

      const head = await get(port, path, {}, 'HEAD');
      expect(head.status).toBe(200);
      expect(head.body.length).toBe(0);
      expect(head.headers['content-length']).toBe(String(first.body.length));
      expect(head.headers['content-type']).toBe(first.headers['content-type']);
    }
  });

  it('404s unknown paths under /admin/, 405s other methods, and leaves other paths alone', async () => {
    for (const path of [
      '/admin/nope',
      '/admin/admin.html',
      '/admin/assets.ts',
      '/admin/embed.ts',
      '/admin/../graphql',
      '/admin//admin.js',
      '/admin/admin.js/',
    ]) {
      const missing = await get(port, path);
      expect(missing.status, path).toBe(404);
      expect(missing.headers['content-type']).toBe('text/plain; charset=utf-8');
      expect(missing.headers['content-security-policy']).toBe(ADMIN_CONTENT_SECURITY_POLICY);
      expect(missing.headers['x-content-type-options']).toBe('nosniff');
    }
    for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS']) {
      const refused = await get(port, '/admin', {}, method);
      expect(refused.status, method).toBe(405);
      expect(refused.headers.allow).toBe('GET, HEAD');
    }
    for (const path of ['/', '/graphql', '/health', '/administrator', '/admin.js', '/x/admin']) {
      const other = await get(port, path);
      expect(other.status, path).toBe(418);
      expect(other.body.toString()).toBe('not mine');
    }
  });
});

describe('the files', () => {
  it('admin/assets.ts holds admin.html, admin.css and admin.js as they are (else: npx tsx src/server/admin/embed.ts)', () => {
    expect(readFileSync(ASSETS_FILE, 'utf8')).toBe(embeddedSource());
  });

  it('are served by what tsc emits, from a directory with no copy of them', async () => {
    const out = mkdtempSync(join(tmpdir(), 'admin-page-dist-'));
    try {
      // The build's own options (tsconfig.build.json), on admin-page.ts and what it imports.
      const config = join(out, 'tsconfig.json');
      writeFileSync(
        config,
        JSON.stringify({
          extends: join(ROOT, 'tsconfig.build.json'),
          compilerOptions: {
            rootDir: join(ROOT, 'src'),
            outDir: join(out, 'dist'),
            typeRoots: [join(ROOT, 'node_modules/@types')],
          },
          include: [],
          files: [join(ROOT, 'src/server/admin-page.ts')],
        }),
      );
      const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
      await run(process.execPath, [tsc, '-p', config]);
      const emitted = join(out, 'dist/server/admin-page.js');
      const beside = readdirSync(join(out, 'dist/server/admin')).filter((f) => !f.endsWith('.map'));
      expect(beside).toEqual(['assets.js']); // no admin.html, admin.css or admin.js to read
      const script = `
        import { createServer } from 'node:http';
        const { handleAdmin } = await import(${JSON.stringify(emitted)});
        const server = createServer((req, res) => handleAdmin(req, res) || res.writeHead(418).end());
        server.listen(0, '127.0.0.1', () => console.log(server.address().port));`;
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: out });
      try {
        const childPort = await firstLine(child.stdout);
        const html = (await get(childPort, '/admin')).body.toString();
        expect(html.replace(/\?v=[0-9a-f]{16}/g, '')).toBe(source('admin.html'));
        expect(html).toBe((await get(port, '/admin')).body.toString());
        for (const file of ['admin.js', 'admin.css']) {
          const answer = await get(childPort, linked(html, file)!, { 'accept-encoding': 'gzip' });
          expect(answer.status).toBe(200);
          expect(gunzipSync(answer.body).toString()).toBe(source(file));
        }
        expect((await get(childPort, '/admin/nope')).status).toBe(404);
      } finally {
        child.kill();
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});

function run(command: string, args: string[]): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { cwd: ROOT });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c));
    child.stderr.on('data', (c: Buffer) => (output += c));
    child.on('error', fail);
    child.on('exit', (code) => (code === 0 ? done() : fail(new Error(`tsc: ${code}\n${output}`))));
  });
}

function firstLine(stream: NodeJS.ReadableStream): Promise<number> {
  return new Promise((done, fail) => {
    let text = '';
    stream.on('data', (c: Buffer) => {
      text += c;
      const line = text.split('\n')[0];
      if (text.includes('\n')) done(Number(line));
    });
    stream.on('end', () => fail(new Error(`no port: ${text}`)));
  });
}

describe('the gateway', () => {
  it('serves the admin page at /admin, beside GraphQL', async () => {
    const { startTestGateway } = await import('./helpers/gateway.js');
    const gw = await startTestGateway();
    try {
      const origin = new URL(gw.gateway.url).origin;
      const page = await fetch(`${origin}/admin`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await page.text()).toContain('Admin token');
    } finally {
      await gw.close();
    }
  });
});
