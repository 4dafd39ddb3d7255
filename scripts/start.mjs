#!/usr/bin/env node
// `npm start`: builds dist/ only when it is older than what it is built from, then runs the
// CLI (package.json's bin) in this very process, with this process's arguments and signals.
//
// Plain JavaScript so that it runs before anything is compiled. dist/ is stale when any of
// src/ (its .ts files and its directories, whose times change when a file is added, removed
// or renamed), tsconfig.json, tsconfig.build.json or package.json is newer than the stamp
// dist/.build-stamp, which a build sets to the time it started (to 1970 when it failed); or
// when a source has no .js in dist/. Without a stamp (a build by `npm run build` or
// `prepare`) dist/cli.js's time stands in for it. Without TypeScript (a production install) a stale
// dist/ is started as it is, with a warning.
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  readdirSync,
  readFileSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const bin = join(root, typeof pkg.bin === 'string' ? pkg.bin : pkg.bin['sync-gateway']);
const dist = join(root, 'dist');
const stamp = join(dist, '.build-stamp');

const mtime = (path) => statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? 0;

/** Why dist/ must be rebuilt, or null when it is current. */
function staleness() {
  if (!existsSync(bin)) return 'dist/ has not been built';
  const builtAt = existsSync(stamp) ? mtime(stamp) : mtime(bin);
  const inputs = ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'src'];
  const src = join(root, 'src');
  for (const entry of readdirSync(src, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name);
    if (entry.isDirectory()) inputs.push(relative(root, path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
      const source = relative(src, path);
      if (!existsSync(join(dist, source.replace(/\.ts$/, '.js')))) return `dist/ has no ${source}`;
      inputs.push(relative(root, path));
    }
  }
  const newer = inputs.find((input) => mtime(join(root, input)) > builtAt);
  return newer ? `${newer} is newer than dist/` : null;
}

function build(reason) {
  let tsc;
  try {
    tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
  } catch {
    if (existsSync(bin)) {
      console.warn(`start: ${reason}, but TypeScript is not installed: starting dist/ as built`);
      return;
    }
    console.error('start: dist/ is not built and TypeScript is not installed (npm install)');
    process.exit(1);
  }
  console.error(`start: ${reason}: building`);
  const startedAt = new Date();
  const run = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], {
    cwd: root,
    stdio: 'inherit',
  });
  // A failed build still writes dist/: a stamp from 1970 keeps it stale until one succeeds.
  const succeeded = run.status === 0;
  writeFileSync(stamp, '');
  utimesSync(stamp, succeeded ? startedAt : new Date(1000), succeeded ? startedAt : new Date(1000));
  if (!succeeded) process.exit(run.status ?? 1);
}

const reason = staleness();
if (reason) build(reason);
// The CLI reads process.argv.slice(2): the arguments given to this script, as they are.
process.argv[1] = bin;
await import(pathToFileURL(bin).href);
