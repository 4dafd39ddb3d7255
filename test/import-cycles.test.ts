/**
 * The layers of docs/architecture.md hold: no import circles in src/ or client/src
 * (type-only imports count too: a circle of types still ties the files' meaning together),
 * and each layer of src/ imports only what the table there allows. Imports are read with
 * TypeScript's own scanner.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.tsx?$/.test(e.name) && !e.name.endsWith('.d.ts'))
    .map((e) => join(e.parentPath, e.name));
}

/** The project files a file imports (relative imports only; `.js` names the `.ts` source). */
function importsOf(file: string, known: Set<string>): string[] {
  const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  return info.importedFiles
    .map((i) => i.fileName)
    .filter((name) => name.startsWith('.'))
    .flatMap((name) => {
      const base = resolve(dirname(file), name).replace(/\.js$/, '');
      return [`${base}.ts`, `${base}.tsx`, join(base, 'index.ts')].filter((f) => known.has(f));
    });
}

/** Every strongly connected component of more than one file, or a file importing itself. */
function cycles(files: string[]): string[][] {
  const known = new Set(files);
  const edges = new Map(files.map((f) => [f, importsOf(f, known)]));
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const found: string[][] = [];
  const visit = (f: string) => {
    index.set(f, index.size);
    low.set(f, index.get(f)!);
    stack.push(f);
    for (const g of edges.get(f) ?? []) {
      if (!index.has(g)) visit(g);
      if (stack.includes(g)) low.set(f, Math.min(low.get(f)!, low.get(g)!));
    }
    if (low.get(f) !== index.get(f)) return;
    const component: string[] = [];
    for (let g = stack.pop(); g !== undefined; g = g === f ? undefined : stack.pop()) {
      component.push(relative(ROOT, g));
    }
    if (component.length > 1 || edges.get(f)!.includes(f)) found.push(component.sort());
  };
  for (const f of files) if (!index.has(f)) visit(f);
  return found;
}

/** What each layer of src/ may import (docs/architecture.md); errors and clock are for all. */
const ALLOWED: Record<string, string[]> = {
  server: ['*'],
  resolvers: ['schema', 'session', 'sync', 'streams'],
  schema: ['session', 'sync', 'auth'],
  cluster: ['session', 'store', 'sync'],
  session: ['sync', 'store/port.ts', 'streams'],
  sync: ['store/port.ts', 'streams'],
  store: ['sync', 'streams'],
  streams: [],
  auth: ['sync/model.ts'],
};

/** "layer imports target" for every import of src/ that the table does not allow. */
function layerViolations(): string[] {
  const src = join(ROOT, 'src');
  const files = sourceFiles(src);
  const known = new Set(files);
  const layerOf = (f: string) => relative(src, f).split('/')[0]!;
  return files.flatMap((file) => {
    const allowed = ALLOWED[layerOf(file)];
    if (!allowed || allowed.includes('*')) return [];
    return importsOf(file, known)
      .map((target) => relative(src, target))
      .filter((target) => {
        const layer = target.split('/')[0]!;
        if (layer === layerOf(file) || ['errors.ts', 'clock.ts'].includes(layer)) return false;
        return !allowed.some((a) => target === a || layer === a);
      })
      .map((target) => `${relative(src, file)} imports ${target}`);
  });
}

describe('layers', () => {
  it('each layer of src/ imports only what docs/architecture.md allows', () => {
    expect(layerViolations()).toEqual([]);
  });
});

describe('import circles', () => {
  it.each(['src', 'client/src'])('there are none in %s', (dir) => {
    expect(cycles(sourceFiles(join(ROOT, dir)))).toEqual([]);
  });

  it('are found when there are some (the check itself works)', () => {
    const fixture = join(ROOT, 'test/fixtures/cycle');
    expect(cycles(sourceFiles(fixture))).toEqual([
      ['test/fixtures/cycle/a.ts', 'test/fixtures/cycle/b.ts', 'test/fixtures/cycle/c.ts'],
    ]);
  });
});
