/**
 * A collection's schema in the rules file is checked when the rules load: one ajv cannot
 * compile stops the gateway's start with a message naming it and ajv's reason.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../src/config.js';
import { loadRules, parseRules } from '../src/sync/permissions.js';
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
