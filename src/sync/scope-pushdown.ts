/**
 * The part of a MongoDB filter (a query's, or a read rule's with the user's id in it) a
 * store can answer by index, as a ScopeCondition that selects a SUPERSET of what the filter
 * matches (query-match.ts, mingo, decides exactly afterwards). Translated:
 *
 * - `{ field: v }` and `{ field: { $eq: v } }`, `{ field: { $in: [v, ...] } }`, where the
 *   field is a plain dotted path (scope-condition.ts) and every v a string, a safe integer
 *   or a boolean: the same equality, which meets arrays as MongoDB does (stores widen it
 *   where an array lies along the path);
 * - `$and` of parts, and the fields of one filter: all of the translated parts;
 * - `$or`: one of its branches, when every branch narrows (one that does not makes it ANY).
 *
 * Anything else contributes no condition (ANY): null (it also matches a missing field),
 * objects and arrays as values, other numbers (a store may read 0.1 or 2^53+1 apart from
 * JavaScript), strings with lone surrogates, `$ne` `$nin` `$not` `$nor` `$exists` `$expr`
 * `$regex` `$all` `$elemMatch` `$gt`..., array positions (`tags.0`) and odd field names.
 */
import type { Json, JsonObject } from './model.js';
import { isJsonObject } from './model.js';
import type { Rule, RulesConfig } from './permissions.js';
import {
  allOf,
  ANY,
  anyOf,
  conditionPaths,
  isIndexablePath,
  NONE,
  type ScopeCondition,
  type ScopeIndex,
  type ScopeScalar,
} from './scope-condition.js';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** A value every store compares exactly as mingo does, or undefined. */
function scalar(value: Json | undefined): ScopeScalar | undefined {
  if (typeof value === 'string') return LONE_SURROGATE.test(value) ? undefined : value;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  return undefined;
}

/** The filter's condition; null (no filter) is ANY. */
export function pushdown(filter: JsonObject | null): ScopeCondition {
  if (filter === null) return ANY;
  return allOf(Object.entries(filter).map(([key, value]) => entry(key, value)));
}

/** A read rule's condition: true is ANY, false NONE. */
export const ruleCondition = (rule: Rule): ScopeCondition =>
  typeof rule === 'boolean' ? (rule ? ANY : NONE) : pushdown(rule);

const nested = (value: Json): ScopeCondition => (isJsonObject(value) ? pushdown(value) : ANY);

function entry(key: string, value: Json): ScopeCondition {
  const list = Array.isArray(value) ? value : null;
  if (key === '$and') return list ? allOf(list.map(nested)) : ANY;
  if (key === '$or') return list ? anyOf(list.map(nested)) : ANY;
  if (key.startsWith('$') || !isIndexablePath(key)) return ANY;
  return field(key, value);
}

function field(path: string, value: Json): ScopeCondition {
  const equal = scalar(value);
  if (equal !== undefined) return { path, in: [equal] };
  // null and lists are values to equal (ANY); an object is one too unless it holds operators.
  if (!isJsonObject(value) || !Object.keys(value).some((k) => k.startsWith('$'))) return ANY;
  return allOf(Object.entries(value).map(([op, operand]) => operator(path, op, operand)));
}

function operator(path: string, op: string, operand: Json): ScopeCondition {
  if (op === '$eq') {
    const equal = scalar(operand);
    return equal === undefined ? ANY : { path, in: [equal] };
  }
  if (op !== '$in' || !Array.isArray(operand)) return ANY;
  const values = operand.map(scalar);
  if (values.some((v) => v === undefined)) return ANY;
  return { path, in: [...new Set(values as ScopeScalar[])] };
}

/**
 * The fields the read rules test, for the store to index at start: a rule's paths do not
 * depend on the user (its "%%user.id" is a string either way). `collection` null: the default
 * rule, for every collection the rules file does not name.
 */
export function ruleIndexes(rules: RulesConfig): ScopeIndex[] {
  const named = Object.entries(rules.collections).flatMap(([collection, r]) =>
    conditionPaths(ruleCondition(r.read)).map((path) => ({ collection, path })),
  );
  const fallback = conditionPaths(ruleCondition(rules.default.read)).map((path) => ({
    collection: null,
    path,
  }));
  return [...named, ...fallback];
}
