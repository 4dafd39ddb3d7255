/**
 * The gateway's modules for the bench, as `npm start` runs them: the build in dist/ (tsc's
 * output, which `npm run bench` makes first). tsx, which runs the bench itself, gives every
 * function a name property of its own (esbuild's keepNames), which costs the gateway memory
 * and time that the built gateway does not spend. BENCH_GATEWAY=src runs the sources under tsx.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const GATEWAY_FROM = process.env.BENCH_GATEWAY === 'src' ? 'src' : 'dist';

const base = new URL(`../${GATEWAY_FROM}/`, import.meta.url);
if (!existsSync(fileURLToPath(new URL('server/gateway.js', base))) && GATEWAY_FROM === 'dist') {
  throw new Error('bench: dist/ is not built: run `npm run build` (npm run bench does)');
}

const load = (path: string) => import(new URL(path, base).href);

export const { mintToken } = (await load('auth/jwt.js')) as typeof import('../src/auth/jwt.js');
export const { loadConfig } = (await load('config.js')) as typeof import('../src/config.js');
export const { startGateway } = (await load(
  'server/gateway.js',
)) as typeof import('../src/server/gateway.js');
export const { SqliteStore } = (await load(
  'store/sqlite/sqlite-store.js',
)) as typeof import('../src/store/sqlite/sqlite-store.js');
