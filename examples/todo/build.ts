/**
 * Bundles the example with esbuild: `app.js` (the page, React and the SDK) and `sw.js` (the
 * service worker) beside `index.html`, into `dist/` (or the directory given).
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const HERE = dirname(fileURLToPath(import.meta.url));

export async function buildTodo(outdir = join(HERE, 'dist')): Promise<string> {
  mkdirSync(outdir, { recursive: true });
  const common = {
    bundle: true,
    minify: true,
    sourcemap: true,
    platform: 'browser' as const,
    target: 'es2022',
    logLevel: 'warning' as const,
    define: { 'process.env.NODE_ENV': '"production"' },
  };
  await build({
    ...common,
    entryPoints: [join(HERE, 'src/main.tsx')],
    outfile: join(outdir, 'app.js'),
    format: 'esm',
    jsx: 'automatic',
  });
  await build({
    ...common,
    entryPoints: [join(HERE, 'src/sw.ts')],
    outfile: join(outdir, 'sw.js'),
    format: 'iife',
  });
  copyFileSync(join(HERE, 'index.html'), join(outdir, 'index.html'));
  return outdir;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(`built ${await buildTodo(process.argv[2])}`);
}
