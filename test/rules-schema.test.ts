/**
 * A collection's schema in the rules file is checked when the rules load: one ajv cannot
 * compile stops the gateway's start with a message naming it and ajv's reason. The rules file
 * itself is checked against its own JSON Schema (src/sync/rules-schema.ts): it must have
 * `collections`, may have `default`, nothing else; a JSON syntax error names line and column.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../src/config.js';
import { Ajv } from 'ajv';
import { loadRules, OWNER_RULES, parseRules } from '../src/sync/permissions.js';
import { RULES_SCHEMA } from '../src/sync/rules-schema.js';
import { startTestGateway } from './helpers/gateway.js';

const withSchema = (schema: unknown) => ({
  collections: { cars: { read: true, write: true, schema } },
});

let dir: string;
beforeAll(() => void (dir = mkdtempSync(join(tmpdir(), 'rules-schema-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a schema in the rules file', () => {
  it('is kept beside the rules of its collection', () => {
    const schema = { type: 'object', properties: { price: { type: 'number' } } };
    const rules = parseRules(withSchema(schema));
    expect(rules.collections.cars).toEqual({ read: true, write: true, schema });
  });

  it.each([
    [
      'a type that does not exist',
      { type: 'object', properties: { price: { type: 'nummber' } } },
      'data/properties/price/type must be equal to one of the allowed values',
    ],
    [
      'a misspelt keyword',
      { type: 'object', requried: ['price'] },
      'strict mode: unknown keyword: "requried"',
    ],
    [
      'a $ref to nothing',
      { type: 'object', properties: { at: { $ref: '#/definitions/date' } } },
      "can't resolve reference #/definitions/date",
    ],
    [
      'a pattern that is not one',
      { type: 'object', patternProperties: { '(': {} } },
      'Invalid regular expression',
    ],
    [
      'a draft ajv does not know here',
      { $schema: 'https://json-schema.org/draft/2020-12/schema' },
      'no schema with key or ref',
    ],
  ])('stops loading when ajv cannot compile it: %s', (_name, schema, reason) => {
    expect(() => parseRules(withSchema(schema))).toThrow(
      'rules.collections.cars.schema is not a schema ajv can compile: ',
    );
    expect(() => parseRules(withSchema(schema))).toThrow(reason);
  });

  it.each([
    [
      'a schema that is not an object',
      true,
      'rules.collections.cars.schema must be a JSON Schema object',
    ],
    [
      'a document that is not an object',
      { type: 'array' },
      'rules.collections.cars.schema.type must be "object"',
    ],
  ])('stops loading on %s', (_name, schema, message) => {
    expect(() => parseRules(withSchema(schema))).toThrow(message);
  });

  it('belongs to a named collection, not to the default rules', () => {
    const rules = { default: { read: true, write: true, schema: { type: 'object' } } };
    expect(() => parseRules(rules)).toThrow(
      'rules.default.schema: a schema belongs to a named collection',
    );
  });

  it('stops the gateway from starting, naming the setting and the schema', async () => {
    const file = join(dir, 'bad-rules.json');
    writeFileSync(file, JSON.stringify(withSchema({ type: 'object', requried: [] })));
    const start = startTestGateway({ env: { RULES_FILE: file } });
    await expect(start).rejects.toThrow(ConfigError);
    await expect(start).rejects.toThrow(
      '--rules / RULES_FILE: rules.collections.cars.schema is not a schema ajv can compile: strict mode: unknown keyword: "requried"',
    );
  });

  it('is valid in rules.example.json', () => {
    const rules = loadRules(join(import.meta.dirname, '..', 'rules.example.json'));
    expect(Object.keys(rules.collections).filter((c) => rules.collections[c]?.schema)).toEqual([
      'catalog',
      'teamNotes',
    ]);
  });
});

describe('the shape of a rules file', () => {
  const write = (name: string, text: string) => {
    const file = join(dir, name);
    writeFileSync(file, text);
    return file;
  };

  it('is a draft-07 JSON Schema that rules.example.json matches', () => {
    const validate = new Ajv({ allowUnionTypes: true }).compile(RULES_SCHEMA);
    const example = join(import.meta.dirname, '..', 'rules.example.json');
    expect(validate(JSON.parse(readFileSync(example, 'utf8')))).toBe(true);
    expect(validate({ default: { read: true, write: true } })).toBe(false);
  });

  it('must have collections, in a file', () => {
    const file = write('no-collections.json', '{ "default": { "read": true, "write": true } }');
    expect(() => loadRules(file)).toThrow(
      `rules.collections is missing: it must be an object of collection names to { "read", "write", "schema"? } (in ${file})`,
    );
    expect(loadRules(write('empty.json', '{ "collections": {} }'))).toEqual({
      default: OWNER_RULES,
      collections: {},
    });
  });

  it.each([
    [
      { collections: {}, colections: {} },
      'rules.colections is not a key rules may have (only "collections", "default")',
    ],
    [{ collections: [] }, 'rules.collections must be an object of collection names'],
    [
      { collections: { cars: { read: true } } },
      'rules.collections.cars.write is missing: it must be true, false or a filter object',
    ],
    [
      { collections: { cars: { read: true, write: 'no' } } },
      'rules.collections.cars.write must be true, false or a filter object',
    ],
    [
      { collections: { cars: { read: true, write: true, raed: true } } },
      'rules.collections.cars.raed is not a key rules.collections.cars may have (only "read", "write", "schema")',
    ],
    [
      { collections: { cars: true } },
      'rules.collections.cars must be an object with read and write',
    ],
    [
      { collections: {}, default: { read: true, write: true, owner: 'x' } },
      'rules.default.owner is not a key rules.default may have',
    ],
    [[], 'rules must be a JSON object with "collections"'],
  ])('refuses %j naming the path and the field', (rules, message) => {
    expect(() => parseRules(rules)).toThrow(message);
    expect(() => loadRules(write('bad.json', JSON.stringify(rules)))).toThrow(message);
  });

  it('names the line and column of a JSON syntax error, and a file it cannot read', () => {
    const file = write(
      'syntax.json',
      '{\n  "collections": {\n    "cars": { "read": true, }\n  }\n}',
    );
    expect(() => loadRules(file)).toThrow(
      `${file}:3:29: not valid JSON: Expected double-quoted property name`,
    );
    expect(() => loadRules(write('cut.json', '{ "collections": '))).toThrow(
      /cut\.json:1:18: not valid JSON: Unexpected end of JSON input$/,
    );
    expect(() => loadRules(join(dir, 'absent.json'))).toThrow(
      /^cannot read the rules file: ENOENT/,
    );
    expect(loadRules(write('bom.json', '\uFEFF{ "collections": {} }')).collections).toEqual({});
  });

  it('stops the gateway from starting, naming the setting and the field', async () => {
    const file = write(
      'typo.json',
      JSON.stringify({ colections: { cars: { read: true, write: true } } }),
    );
    const start = startTestGateway({ env: { RULES_FILE: file } });
    await expect(start).rejects.toThrow(ConfigError);
    await expect(start).rejects.toThrow('--rules / RULES_FILE: rules.collections is missing');
  });
});
