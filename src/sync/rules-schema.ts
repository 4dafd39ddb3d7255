/**
 * The rules file's shape as a JSON Schema (draft-07), checked by ajv before permissions.ts
 * looks at what the rules mean (that a filter compiles, that a collection's schema does).
 * A problem is reported in one line naming the path in the file and what belongs there:
 * `rules.collections.cars.read must be true, false or a filter object`.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';

/**
 * Every node that can be wrong has a `title` saying what belongs there; the messages use it.
 * `collections` is required in a file; parseRules (for code and tests) lets it default to `{}`.
 */
export const RULES_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'a JSON object with "collections" (and "default", if any)',
  description:
    'Permission rules of the sync gateway: a read and a write rule per collection, and the rules of every collection not named.',
  type: 'object',
  required: ['collections'],
  additionalProperties: false,
  properties: {
    collections: {
      title: 'an object of collection names to { "read", "write", "schema"? }',
      type: 'object',
      additionalProperties: { $ref: '#/definitions/namedCollection' },
    },
    default: { $ref: '#/definitions/defaultCollection' },
  },
  definitions: {
    rule: {
      title: 'true, false or a filter object',
      description:
        'true, false, or a MongoDB filter over the document in which "%%user.id" stands for the caller.',
      type: ['boolean', 'object'],
    },
    namedCollection: {
      title: 'an object with read and write (and a schema, if any)',
      type: 'object',
      required: ['read', 'write'],
      additionalProperties: false,
      properties: {
        read: { $ref: '#/definitions/rule' },
        write: { $ref: '#/definitions/rule' },
        schema: {
          title: 'a JSON Schema object',
          description: "A JSON Schema (draft-07) of the collection's documents.",
          type: 'object',
        },
      },
    },
    defaultCollection: {
      title: 'an object with read and write',
      description: 'The rules of every collection the file does not name.',
      type: 'object',
      required: ['read', 'write'],
      additionalProperties: false,
      properties: {
        read: { $ref: '#/definitions/rule' },
        write: { $ref: '#/definitions/rule' },
        schema: { title: 'a schema belongs to a named collection', not: {} },
      },
    },
  },
} as const;

interface SchemaNode {
  title?: string;
  $ref?: string;
  properties?: Record<string, SchemaNode>;
}

let validator: ValidateFunction | undefined;

function validate(value: unknown): ErrorObject | null {
  validator ??= new Ajv({ allowUnionTypes: true, verbose: true }).compile(RULES_SCHEMA);
  return validator(value) ? null : (validator.errors?.[0] ?? null);
}

/** A `#/definitions/...` reference resolved, or the node itself. */
function resolve(node: SchemaNode | undefined): SchemaNode | undefined {
  const ref = node?.$ref?.replace('#/definitions/', '');
  return ref ? (RULES_SCHEMA.definitions as Record<string, SchemaNode>)[ref] : node;
}

/** `/collections/cars/read` as `rules.collections.cars.read`. */
function pathOf(instancePath: string): string {
  const tokens = instancePath
    .split('/')
    .slice(1)
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
  return ['rules', ...tokens].join('.');
}

const quoteAll = (names: string[]) => names.map((n) => `"${n}"`).join(', ');

/** One line for ajv's first complaint: where, and what belongs there. */
function describe(error: ErrorObject): string {
  const path = pathOf(error.instancePath);
  const parent = error.parentSchema as SchemaNode | undefined;
  if (error.keyword === 'required') {
    const name = (error.params as { missingProperty: string }).missingProperty;
    const wanted = resolve(parent?.properties?.[name])?.title;
    return `${path}.${name} is missing${wanted ? `: it must be ${wanted}` : ''}`;
  }
  if (error.keyword === 'additionalProperties') {
    const name = (error.params as { additionalProperty: string }).additionalProperty;
    const known = Object.keys(parent?.properties ?? {});
    return `${path}.${name} is not a key ${path} may have (only ${quoteAll(known)})`;
  }
  if (error.keyword === 'not' && parent?.title) return `${path}: ${parent.title}`;
  if (parent?.title) return `${path} must be ${parent.title}`;
  return `${path} ${error.message ?? 'is not valid'}`;
}

/**
 * Checks a rules document's shape; throws one line naming the first problem. With
 * `requireCollections` false (parseRules, for code and tests) `collections` may be left out.
 */
export function checkRulesShape(value: unknown, requireCollections = true): void {
  const filled =
    !requireCollections &&
    value !== null &&
    typeof value === 'object' &&
    !Array.isArray(value) &&
    !('collections' in value)
      ? { ...value, collections: {} }
      : value;
  const error = validate(filled);
  if (error) throw new Error(describe(error));
}
