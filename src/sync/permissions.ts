/**
 * Per-collection read and write rules over the user. A rule is `true`, `false` or a
 * MongoDB filter in which the string "%%user.id" stands for the caller's id. The default,
 * when no rules file names a collection: readable and writable by the user in `ownerId`.
 * A named collection may also have a `schema` (JSON Schema draft-07) its uploads must match.
 */
import { readFileSync } from 'node:fs';
import { documentSchema } from './document-schema.js';
import { checkRulesShape } from './rules-schema.js';
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

  /**
   * The read rule of a collection with this user's id in it, for a store to narrow its reads
   * by (scope-pushdown.ts); `canRead` still decides.
   */
  readRule(collection: string): Rule {
    const { read } = this.rules.collections[collection] ?? this.rules.default;
    return typeof read === 'boolean' ? read : (substitute(read, this.userId) as JsonObject);
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

/**
 * Parses a rules document; throws naming the bad entry. Its shape is checked against the
 * rules file's JSON Schema (rules-schema.ts; `collections` may be left out unless
 * `requireCollections`, as a file must have it), then each rule must compile as a filter
 * and each collection schema with ajv.
 */
export function parseRules(value: unknown, requireCollections = false): RulesConfig {
  checkRulesShape(value, requireCollections);
  const doc = value as { collections?: Record<string, unknown>; default?: unknown };
  const collections: Record<string, CollectionRules> = {};
  for (const [name, rules] of Object.entries(doc.collections ?? {})) {
    collections[name] = parseCollectionRules(`rules.collections.${name}`, rules, true);
  }
  const fallback =
    doc.default === undefined
      ? OWNER_RULES
      : parseCollectionRules('rules.default', doc.default, false);
  return { default: fallback, collections };
}

/** `position N` of JSON.parse's message as `line:column` in `text`. */
function lineColumn(text: string, message: string): string {
  const match = /at position (\d+)/.exec(message);
  const position = match ? Number(match[1]) : text.length;
  const before = text.slice(0, position).split('\n');
  return `${before.length}:${before.at(-1)!.length + 1}`;
}

/** JSON.parse's reason without its position (named as line:column instead). */
const reasonOf = (message: string) =>
  message.replace(/ in JSON at position \d+.*$/, '').replace(/ \(line \d+ column \d+\)$/, '');

/**
 * The rules file at `path` (none: the owner rules for every collection). Throws one line:
 * the file cannot be read; `file:line:column` of a JSON syntax error; or the path in the
 * file of what is wrong (it must have `collections`, may have `default`, nothing else).
 */
export function loadRules(path: string | undefined): RulesConfig {
  if (!path) return { default: OWNER_RULES, collections: {} };
  let text: string;
  try {
    text = readFileSync(path, 'utf8').replace(/^\uFEFF/, '');
  } catch (error) {
    throw new Error(`cannot read the rules file: ${(error as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const message = (error as Error).message;
    throw new Error(`${path}:${lineColumn(text, message)}: not valid JSON: ${reasonOf(message)}`);
  }
  try {
    return parseRules(value, true);
  } catch (error) {
    throw new Error(`${(error as Error).message} (in ${path})`);
  }
}
