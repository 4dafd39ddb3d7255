/**
 * MongoDB filter matching for subscription queries and permission rules, by mingo (a
 * maintained implementation of MongoDB's query language), never by hand; a filter that could
 * freeze the gateway never reaches it. filter-policy.ts first checks the filter against the
 * allow-list and limits of filter-allowlist.ts; mingo then runs it with a context of those
 * operators only, every regular expression on RE2 (regex-re2.ts), and no scripts.
 *
 * mingo 7 takes its operators from the `Context` in its options (it has no global
 * `useOperators` any more). The `Query` of the `mingo` entry merges its full operator set
 * under the context it is given, so a context there can add operators but neither remove
 * nor replace one; the `Query` of `mingo/query` uses the given context alone.
 */
import { Context, evalExpr } from 'mingo/core';
import * as expressionOperators from 'mingo/operators/expression';
import * as queryOperators from 'mingo/operators/query';
import { Query } from 'mingo/query';
import type { Options } from 'mingo/types';
import { resolve } from 'mingo/util';
import { EXPRESSION_OPERATORS, FIELD_OPERATORS, TOP_LEVEL_OPERATORS } from './filter-allowlist.js';
import { prepareFilter, RE2_REGEX_OPERATOR, type RegexSpec } from './filter-policy.js';
import type { JsonObject } from './model.js';
import { compileRegex } from './regex-re2.js';

export type Matcher = (doc: JsonObject) => boolean;

/** A `$regex` (as filter-policy.ts rewrites it) on RE2, with mingo's reading of arrays. */
function $regexRE2(selector: string, value: unknown): (doc: JsonObject) => boolean {
  const { regex, options } = value as RegexSpec;
  const re = compileRegex(regex, options);
  const match = (v: unknown) => typeof v === 'string' && re.test(v);
  return (doc) => {
    const found: unknown = resolve(doc, selector, { unwrapArray: true });
    const values = Array.isArray(found) ? found : [found];
    return values.some((v) => match(v) || (Array.isArray(v) && v.some(match)));
  };
}

/** `$regexMatch` in `$expr`, on RE2: filter-policy.ts made its regex and options constant. */
function $regexMatch(obj: Record<string, unknown>, expr: unknown, options: Options): boolean {
  const { input, regex, options: flags } = expr as RegexSpec & { input: unknown };
  const value: unknown = evalExpr(obj, input, options);
  return typeof value === 'string' && compileRegex(regex, flags).test(value);
}

function pick(operators: Record<string, unknown>, names: Iterable<string>) {
  const known = [...names].filter((name) => name in operators);
  return Object.fromEntries(known.map((name) => [name, operators[name]]));
}

/** mingo types each kind of operator as one signature no single operator has: hence the cast. */
type Operators = NonNullable<Parameters<typeof Context.init>[0]>;

const OPTIONS: Partial<Options> = {
  context: Context.init({
    query: {
      ...pick(queryOperators, TOP_LEVEL_OPERATORS),
      ...pick(
        queryOperators,
        [...FIELD_OPERATORS].filter((name) => name !== '$regex'),
      ),
      [RE2_REGEX_OPERATOR]: $regexRE2,
    },
    expression: { ...pick(expressionOperators, EXPRESSION_OPERATORS), $regexMatch },
  } as unknown as Operators),
  scriptEnabled: false,
};

/**
 * Compiles a filter; throws naming what the filter may not hold, or with mingo's message
 * when it is not valid. A document on which evaluating the filter fails (an expression on a
 * value of another type) does not match it.
 */
export function compileFilter(filter: JsonObject | null): Matcher {
  if (filter === null || Object.keys(filter).length === 0) return () => true;
  const query = new Query(prepareFilter(filter), OPTIONS);
  query.test({});
  return (doc) => {
    try {
      return query.test(doc);
    } catch {
      return false;
    }
  };
}

/** Throws when a filter would not compile. */
export function checkFilter(filter: JsonObject): void {
  compileFilter(filter);
}
