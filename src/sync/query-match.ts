/**
 * MongoDB filter matching for subscription queries and permission rules, by mingo
 * (a maintained implementation of MongoDB's query language), never by hand.
 */
import { Query } from 'mingo';
import type { JsonObject } from './model.js';

export type Matcher = (doc: JsonObject) => boolean;

const FORBIDDEN_OPERATORS = new Set(['$where', '$function', '$accumulator']);

const MAX_REGEX_LENGTH = 256;
/** A quantified group that itself contains a quantifier: `(a+)+`, `(a|b*)*`, `(x{2,})+`. */
const NESTED_QUANTIFIER = /\((?:[^()\\]|\\.)*[+*}](?:[^()\\]|\\.)*\)\s*[+*{]/;

/** Refuses patterns that could backtrack for seconds on the event loop. */
function checkRegex(pattern: unknown): void {
  if (typeof pattern !== 'string') return;
  if (pattern.length > MAX_REGEX_LENGTH)
    throw new Error(`$regex is longer than ${MAX_REGEX_LENGTH} characters`);
  if (NESTED_QUANTIFIER.test(pattern))
    throw new Error('$regex must not nest quantifiers, as in (a+)+');
}

function rejectCodeOperators(value: unknown): void {
  if (typeof value !== 'object' || value === null) return;
  for (const [key, inner] of Object.entries(value)) {
    if (FORBIDDEN_OPERATORS.has(key)) throw new Error(`operator ${key} is not allowed`);
    if (key === '$regex') checkRegex(inner);
    rejectCodeOperators(inner);
  }
}

/** Compiles a filter; throws with mingo's message when the filter is not valid. */
export function compileFilter(filter: JsonObject | null): Matcher {
  if (filter === null || Object.keys(filter).length === 0) return () => true;
  rejectCodeOperators(filter);
  const query = new Query(filter);
  query.test({});
  return (doc) => query.test(doc);
}

/** Throws when a filter would not compile. */
export function checkFilter(filter: JsonObject): void {
  compileFilter(filter);
}
