/**
 * Per-collection read and write rules over the user. A rule is `true`, `false` or a
 * MongoDB filter in which the string "%%user.id" stands for the caller's id. The default,
 * when no rules file names a collection: readable and writable by the user in `ownerId`.
 * A named collection may also have a `schema` (JSON Schema draft-07) its uploads must match.
 */
import { readFileSync } from 'node:fs';
import { documentSchema } from './document-schema.js';
import { compileFilter, type Matcher } from './query-match.js';
import { isJsonObject, type Json, type JsonObject } from './model.js';

export type Rule = boolean | JsonObject;
export interface CollectionRules {
  read: Rule;
  write: Rule;
  /** What a document of the collection looks like (document-schema.ts); none: anything. */
  schema?: JsonObject;
}
export interface RulesConfig {
  default: CollectionRules;
  collections: Record<string, CollectionRules>;
}

export const OWNER_RULES: CollectionRules = {
  read: { ownerId: '%%user.id' },
  write: { ownerId: '%%user.id' },
};

function substitute(value: Json, userId: string): Json {
  if (value === '%%user.id') return userId;
  if (Array.isArray(value)) return value.map((v) => substitute(v, userId));
  if (isJsonObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, userId)]));
  }
  return value;
}

/** Rules bound to one user: answers whether a document may be read or written. */
export class UserPermissions {
  private readonly cache = new Map<string, { read: Matcher; write: Matcher }>();

  constructor(
    private readonly rules: RulesConfig,
    private readonly userId: string,
  ) {}

  canRead(collection: string, doc: JsonObject): boolean {
    return this.matchers(collection).read(doc);
  }

  canWrite(collection: string, doc: JsonObject): boolean {
    return this.matchers(collection).write(doc);
  }

  /** Names the rule that refused a write, for compensating-write reasons. */
  describeWrite(collection: string): string {
    const rule = this.rules.collections[collection] ?? this.rules.default;
    return `write rule of "${collection}": ${JSON.stringify(rule.write)}`;
  }

  private matchers(collection: string): { read: Matcher; write: Matcher } {
    let m = this.cache.get(collection);
    if (!m) {
      const rules = this.rules.collections[collection] ?? this.rules.default;
      m = { read: this.compile(rules.read), write: this.compile(rules.write) };
      this.cache.set(collection, m);
    }
    return m;
  }

  /**
   * The rule with this user's id in it. A rule that compiled at load may still not compile
   * for one user (an id that is not a valid pattern inside a `$regex`, or too long for the
   * limits): it then allows nothing for that user, rather than failing the sync.
   */
  private compile(rule: Rule): Matcher {
    if (typeof rule === 'boolean') return () => rule;
    try {
      return compileFilter(substitute(rule, this.userId) as JsonObject);
    } catch {
      return () => false;
    }
  }
}

function parseRule(where: string, value: unknown): Rule {
  if (typeof value === 'boolean') return value;
  if (!isJsonObject(value)) throw new Error(`${where} must be true, false or a filter object`);
  try {
    compileFilter(substitute(value, 'user') as JsonObject);
  } catch (error) {
    throw new Error(`${where} is not a filter the gateway accepts: ${(error as Error).message}`);
  }
  return value;
}

/** A document schema ajv compiles (compiled here once, for the gateway to use). */
function parseSchema(where: string, value: unknown): JsonObject {
  if (!isJsonObject(value)) throw new Error(`${where} must be a JSON Schema object`);
  if (value.type !== undefined && value.type !== 'object') {
    throw new Error(`${where}.type must be "object": a document is an object`);
  }
  try {
    documentSchema(value);
  } catch (error) {
    throw new Error(`${where} is not a schema ajv can compile: ${(error as Error).message}`);
  }
  return value;
}

function parseCollectionRules(where: string, value: unknown, named: boolean): CollectionRules {
  if (!isJsonObject(value)) throw new Error(`${where} must be an object with read and write`);
  const rules = {
    read: parseRule(`${where}.read`, value.read),
    write: parseRule(`${where}.write`, value.write),
  };
  if (value.schema === undefined) return rules;
  if (!named) throw new Error(`${where}.schema: a schema belongs to a named collection`);
  return { ...rules, schema: parseSchema(`${where}.schema`, value.schema) };
}

/** Parses a rules document; throws naming the bad entry. */
export function parseRules(value: unknown): RulesConfig {
  if (!isJsonObject(value)) throw new Error('rules must be a JSON object');
  const collections: Record<string, CollectionRules> = {};
  const named = value.collections ?? {};
  if (!isJsonObject(named)) throw new Error('rules.collections must be an object');
  for (const [name, rules] of Object.entries(named)) {
    collections[name] = parseCollectionRules(`rules.collections.${name}`, rules, true);
  }
  const fallback =
    value.default === undefined
      ? OWNER_RULES
      : parseCollectionRules('rules.default', value.default, false);
  return { default: fallback, collections };
}

export function loadRules(path: string | undefined): RulesConfig {
  if (!path) return { default: OWNER_RULES, collections: {} };
  return parseRules(JSON.parse(readFileSync(path, 'utf8')));
}
