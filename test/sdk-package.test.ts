/**
 * The SDK as a package people install: `npm pack` in client/ gives a tarball; a new app
 * (test/fixtures/packed-app, in a temporary directory outside the repository) installs it
 * with ws and React 18, type-checks against its declarations, syncs through a real gateway
 * with the "." and "./node" entries, and renders with the "./react" hooks. Also: the
 * browser entry bundles for a browser without pulling a Node module.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from './helpers/gateway.js';
import { REPO } from './helpers/child-gateway.js';
import { serverScope } from './helpers/scope.js';

const run = promisify(execFile);
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

let dir: string;
let gw: TestGateway;

async function packClient(into: string): Promise<string> {
  await run(NPM, ['pack', '--pack-destination', into, '--silent'], { cwd: join(REPO, 'client') });
  const tarball = readdirSync(into).find((f) => f.endsWith('.tgz'));
  if (!tarball) throw new Error('npm pack made no tarball');
  return join(into, tarball);
}

function writeApp(tarball: string): void {
  cpSync(join(REPO, 'test/fixtures/packed-app'), dir, { recursive: true });
  const pkg = {
    name: 'packed-app',
    private: true,
    type: 'module',
    dependencies: {
      '@graphql-sync-gateway/client': `file:${tarball}`,
      graphql: '^16.15.0',
      react: '^18.3.1',
      'react-test-renderer': '^18.3.1',
      ws: '^8.23.0',
    },
  };
  writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg, null, 2));
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'packed-app-'));
  writeApp(await packClient(dir));
  const flags = ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'];
  await run(NPM, flags, { cwd: dir });
}, 240_000);

afterAll(async () => {
  await gw?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the packed SDK', () => {
  it('installs into an app, type-checks, syncs and renders with React 18', async () => {
    await run(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', dir]);
    gw = await startTestGateway();
    const env = {
      ...process.env,
      GATEWAY_URL: gw.gateway.wsUrl,
      TOKEN: await gw.token('alice'),
      USER_ID: 'alice',
    };
    const { stdout, stderr } = await run(process.execPath, ['app.mjs'], { cwd: dir, env });
    expect(stderr).toBe('');
    const out = JSON.parse(stdout.trim().split('\n').at(-1)!) as {
      docs: unknown[];
      rendered: string;
    };
    const scope = { user: 'alice', queries: [{ collection: 'cars' }] };
    expect(out.docs).toEqual(await serverScope(gw.gateway.core.store, scope, 'cars'));
    expect(out.rendered).toBe('ACTIVE: from-app');
  }, 60_000);

  it('has a browser entry that bundles without any Node module', async () => {
    const result = await build({
      entryPoints: [join(dir, 'node_modules/@graphql-sync-gateway/client/dist/index.js')],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      logLevel: 'silent',
    });
    expect(result.errors).toEqual([]);
    expect(result.outputFiles[0]!.text).not.toMatch(
      /from ["']node:|require\(["'](fs|path|better-sqlite3)/,
    );
  });
});
