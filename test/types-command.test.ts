/**
 * `sync-gateway types` prints TypeScript declarations for the collections with a schema;
 * they compile with tsc beside a file that uses them as an app would.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from './helpers/child-gateway.js';

const run = promisify(execFile);

const DATE = {
  title: 'EjsonDate',
  type: 'object',
  required: ['$date'],
  properties: { $date: { type: 'string' } },
  additionalProperties: false,
};

const RULES = {
  collections: {
    cars: {
      read: true,
      write: true,
      schema: {
        title: 'Car',
        type: 'object',
        required: ['model', 'price'],
        additionalProperties: false,
        properties: {
          model: { type: 'string' },
          price: { type: 'number', description: 'In euros.' },
          tags: { type: 'array', items: { type: 'string' }, minItems: 1 },
          soldAt: { $ref: '#/definitions/date' },
        },
        definitions: { date: DATE },
      },
    },
    service_logs: {
      read: true,
      write: true,
      schema: {
        type: 'object',
        properties: { at: { $ref: '#/definitions/date' }, km: { type: 'integer' } },
        definitions: { date: DATE },
      },
    },
    notes: { read: true, write: true },
  },
};

/** How an app uses the declarations with the SDK: good documents compile, wrong ones do not. */
const USAGE = `
import type { LocalDatabase, WriteTransaction } from '${join(REPO, 'client/src/local-database.js')}';
import type { Car, Collections, ServiceLogs } from './collections.js';

const car: Car = { _id: 'c1', model: 'Zoe', price: 9000, soldAt: { $date: '2026-11-27T10:00:00.000Z' } };
// @ts-expect-error price is a number
const cheap: Car = { _id: 'c2', model: 'Zoe', price: 'cheap' };
// @ts-expect-error _id is always there
const noId: Car = { model: 'Zoe', price: 1 };
// @ts-expect-error additionalProperties is false
const wheels: Car = { _id: 'c3', model: 'Zoe', price: 1, wheels: 4 };
const log: ServiceLogs = { _id: 'l1', km: 12, anything: true };

declare const db: LocalDatabase<Collections>;
const price: number | undefined = db.get('cars', 'c1')?.price;
const at: string | undefined = db.get('service_logs', 'l1')?.at?.$date;
// @ts-expect-error a collection without a schema has no type
db.get('notes', 'n1');
declare const tx: WriteTransaction<Collections>;
tx.insert('cars', car);
// @ts-expect-error a price is a number
tx.update('cars', 'c1', { price: 'free' });

export { cheap, noId, wheels, log, price, at };
`;

let dir: string;
beforeAll(() => void (dir = mkdtempSync(join(tmpdir(), 'types-command-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const types = (...args: string[]) =>
  run(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'types', ...args], {
    cwd: REPO,
    env: { ...process.env, RULES_FILE: '' },
  });

/** tsc's complaints about `files` (in `dir`), strict as the project is. */
function compileErrors(files: string[]): string[] {
  const program = ts.createProgram(files, {
    strict: true,
    noUncheckedIndexedAccess: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ['lib.es2022.d.ts'],
    types: [],
  });
  // Only the files under test: the SDK's own sources are checked by the project's typecheck.
  return ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file?.fileName.startsWith(dir))
    .map((d) => `${d.file?.fileName}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
}

describe('sync-gateway types', () => {
  it('writes an interface per collection with a schema, and Collections, that compile', async () => {
    const rules = join(dir, 'rules.json');
    const out = join(dir, 'collections.ts');
    writeFileSync(rules, JSON.stringify(RULES));
    await types('--rules', rules, '--out', out);
    const declarations = readFileSync(out, 'utf8');
    expect(declarations).toContain(
      'export interface Collections {\n  cars: Car;\n  service_logs: ServiceLogs;\n}',
    );
    expect(declarations).toContain('export interface Car {\n  _id: string;\n  model: string;');
    expect(declarations).toContain('export interface ServiceLogs {\n  _id: string;');
    expect(declarations.match(/export interface EjsonDate\d* \{/g)).toEqual([
      'export interface EjsonDate {',
    ]);
    writeFileSync(join(dir, 'usage.ts'), USAGE);
    expect(compileErrors([join(dir, 'usage.ts')])).toEqual([]);
  });

  it('prints to stdout, from RULES_FILE, the types of rules.example.json', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'types'], {
      cwd: REPO,
      env: { ...process.env, RULES_FILE: 'rules.example.json' },
    });
    expect(stdout).toContain(
      'export interface Collections {\n  catalog: CatalogItem;\n  teamNotes: TeamNote;\n}',
    );
    writeFileSync(join(dir, 'example.ts'), stdout);
    expect(compileErrors([join(dir, 'example.ts')])).toEqual([]);
  });

  it('stops with the reason when two collections would have one type name', async () => {
    const rules = join(dir, 'twins.json');
    const schema = { title: 'Car', type: 'object' };
    const twins = {
      collections: {
        a: { read: true, write: true, schema },
        b: { read: true, write: true, schema },
      },
    };
    writeFileSync(rules, JSON.stringify(twins));
    await expect(types('--rules', rules)).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining(
        "rules.collections.b.schema: its type name Car is already collection a's",
      ),
    });
  });
});
