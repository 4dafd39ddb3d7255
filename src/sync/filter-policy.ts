/**
 * Checks a filter against the operators and limits of filter-allowlist.ts before mingo
 * compiles it, and rewrites its `$regex` conditions for RE2 (query-match.ts runs them).
 * The walk reads the filter as mingo does: a filter, the conditions on its fields, the
 * expressions of `$expr`, and literal values (compared, never run). Errors name the
 * operator or limit and where it is, as in `$or[1].name.$not: operator $where is not allowed`.
 */
import {
  EXPRESSION_OPERATORS,
  EXPRESSION_VARIABLE,
  FIELD_OPERATORS,
  FILTER_LIMITS as LIMITS,
  TOP_LEVEL_OPERATORS,
} from './filter-allowlist.js';
import type { Json, JsonObject } from './model.js';
import { compileRegex } from './regex-re2.js';

/** The query operator query-match.ts registers: a `$regex` and its `$options`, on RE2. */
export const RE2_REGEX_OPERATOR = '$regexRE2';
export type RegexSpec = { regex: string; options: string };

/** What mingo takes for an operator name (mingo's `isOperator`). */
const isOperator = (key: string): boolean => /^\$[a-zA-Z0-9_]+$/.test(key);
const LOGICAL = new Set(['$and', '$or', '$nor']);

/** A JSON object: GraphQL's JSON scalar reads object literals without a prototype. */
const isPlainObject = (v: unknown): v is JsonObject => {
  if (typeof v !== 'object' || v === null) return false;
  const prototype: unknown = Object.getPrototypeOf(v);
  return prototype === Object.prototype || prototype === null;
};
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isTypeName = (v: unknown): boolean => typeof v === 'string' || isNumber(v);
const join = (at: string, key: string): string => (at ? `${at}.${key}` : key);

function fail(at: string, message: string): never {
  throw new Error(at ? `${at}: ${message}` : message);
}

/** A pattern or options of $regexMatch: a string, not a path to read from the document. */
function constant(value: unknown, at: string): string {
  if (typeof value !== 'string' || value.startsWith('$')) {
    fail(at, 'must be a constant string: a filter compiles its patterns once');
  }
  return value;
}

/** Operands of field operators that must have one shape (mingo would throw while matching). */
const SHAPES: Readonly<Record<string, [(v: unknown) => boolean, string]>> = {
  $size: [isNumber, 'must be a number'],
  $mod: [
    (v) => Array.isArray(v) && v.length === 2 && v.every(isNumber),
    'must be [divisor, remainder]',
  ],
  $type: [
    (v) => isTypeName(v) || (Array.isArray(v) && v.every(isTypeName)),
    'must be a type name or number, or a list of them',
  ],
};

/** Checks a filter; returns the filter mingo compiles (the same, with `$regex` for RE2). */
export function prepareFilter(filter: JsonObject): JsonObject {
  return new FilterWalk().filter(filter, '', 1);
}

class FilterWalk {
  private nodes = 0;
  private characters = 0;
  private conditions = 0;
  private regexProgram = 0;

  /** A filter: field conditions and `$and` `$or` `$nor` `$expr`. */
  filter(value: unknown, at: string, depth: number): JsonObject {
    if (!isPlainObject(value)) fail(at, 'must be a filter object');
    this.enter(at, depth);
    const entries = Object.entries(value).map(([key, inner]): [string, Json] => {
      const where = join(at, key);
      this.key(where, key);
      return [key, this.filterEntry(key, inner, where, depth + 1)];
    });
    return Object.fromEntries(entries);
  }

  private filterEntry(key: string, value: unknown, at: string, depth: number): Json {
    if (key.startsWith('$') && !TOP_LEVEL_OPERATORS.has(key)) {
      fail(at, `operator ${key} is not allowed in a filter`);
    }
    this.count(at);
    if (key === '$expr') return this.expression(value, at, depth);
    if (LOGICAL.has(key))
      return this.list(key, value, at, depth, (v, w, d) => this.filter(v, w, d));
    return this.condition(value, at, depth);
  }

  /** What a field is compared with: an object of operators, or a value to equal. */
  private condition(value: unknown, at: string, depth: number): Json {
    if (isPlainObject(value) && Object.keys(value).some(isOperator)) {
      return this.operators(value, at, depth);
    }
    return this.literal(value, at, depth);
  }

  /** `{ $gte: 1, $lt: 9 }`: operators on one field. */
  private operators(value: JsonObject, at: string, depth: number): JsonObject {
    this.enter(at, depth);
    if (value.$options !== undefined && value.$regex === undefined) {
      fail(join(at, '$options'), '$options needs a $regex beside it');
    }
    const entries = Object.entries(value)
      .filter(([key]) => key !== '$options')
      .map(([key, inner]) => this.fieldOperator(key, inner, value, join(at, key), depth + 1));
    return Object.fromEntries(entries);
  }

  private fieldOperator(
    key: string,
    value: unknown,
    siblings: JsonObject,
    at: string,
    depth: number,
  ): [string, Json] {
    this.text(at, key);
    if (!isOperator(key)) fail(at, `"${key}" is not an operator: operators and fields do not mix`);
    if (!FIELD_OPERATORS.has(key)) fail(at, `operator ${key} is not allowed in a filter`);
    this.count(at);
    if (key === '$regex') return [RE2_REGEX_OPERATOR, this.regex(value, siblings, at, depth)];
    return [key, this.operand(key, value, at, depth)];
  }

  private operand(key: string, value: unknown, at: string, depth: number): Json {
    const literal = (v: unknown, w: string, d: number) => this.literal(v, w, d);
    if (key === '$in' || key === '$nin') return this.list(key, value, at, depth, literal);
    if (key === '$all')
      return this.list(key, value, at, depth, (v, w, d) => this.allEntry(v, w, d));
    if (key === '$not') return this.not(value, at, depth);
    if (key === '$elemMatch') return this.elemMatch(value, at, depth);
    const shape = SHAPES[key];
    if (shape && !shape[0](value)) fail(at, `${key} ${shape[1]}`);
    return this.literal(value, at, depth);
  }

  private regex(value: unknown, siblings: JsonObject, at: string, depth: number): RegexSpec {
    const options = siblings.$options ?? '';
    if (typeof value !== 'string') fail(at, '$regex must be a string');
    if (typeof options !== 'string') fail(join(at, '$options'), '$options must be a string');
    this.enter(at, depth);
    this.text(at, options);
    this.pattern(value, options, at);
    return { regex: value, options };
  }

  /** `$not` takes operators, as `{ $not: { $regex: "^a" } }`. */
  private not(value: unknown, at: string, depth: number): Json {
    if (!isPlainObject(value) || !Object.keys(value).some(isOperator)) {
      fail(at, '$not must hold operators, as { $not: { $gt: 5 } }');
    }
    return this.operators(value, at, depth);
  }

  /** Operators on each element (`{ $gt: 1 }`) or a filter on each (`{ qty: { $gt: 1 } }`), as mingo reads it. */
  private elemMatch(value: unknown, at: string, depth: number): Json {
    if (!isPlainObject(value)) fail(at, '$elemMatch must be an object');
    const keys = Object.keys(value);
    const onElement = keys.length > 0 && keys.every((k) => isOperator(k) && !LOGICAL.has(k));
    return onElement ? this.operators(value, at, depth) : this.filter(value, at, depth);
  }

  private allEntry(value: unknown, at: string, depth: number): Json {
    this.count(at);
    if (!isPlainObject(value) || Object.keys(value)[0] !== '$elemMatch') {
      return this.literal(value, at, depth);
    }
    if (Object.keys(value).length !== 1) fail(at, 'an $elemMatch entry of $all holds nothing else');
    this.enter(at, depth);
    return { $elemMatch: this.elemMatch(value.$elemMatch, join(at, '$elemMatch'), depth + 1) };
  }

  private list(
    key: string,
    value: unknown,
    at: string,
    depth: number,
    each: (v: unknown, at: string, depth: number) => Json,
  ): Json[] {
    if (!Array.isArray(value)) fail(at, `${key} must be a list`);
    if (LOGICAL.has(key) && value.length === 0) fail(at, `${key} must not be empty`);
    if (value.length > LIMITS.listLength) {
      fail(at, `${key} holds more than ${LIMITS.listLength} entries`);
    }
    this.enter(at, depth);
    return value.map((v, i) => each(v, `${at}[${i}]`, depth + 1));
  }

  /** A value compared, never run: anything JSON, `$` keys (EJSON `$date`) included. */
  private literal(value: unknown, at: string, depth: number): Json {
    this.enter(at, depth);
    if (typeof value === 'string') return this.text(at, value);
    if (value === null || typeof value === 'boolean' || isNumber(value)) return value;
    if (Array.isArray(value)) return value.map((v, i) => this.literal(v, `${at}[${i}]`, depth + 1));
    if (!isPlainObject(value))
      fail(at, 'must be JSON: a string, number, boolean, null, list or object');
    const entries = Object.entries(value).map(([k, v]): [string, Json] => {
      this.key(at, k);
      return [k, this.literal(v, join(at, k), depth + 1)];
    });
    return Object.fromEntries(entries);
  }

  /** An aggregation expression (inside `$expr`). */
  private expression(value: unknown, at: string, depth: number): Json {
    if (typeof value === 'string') return this.expressionString(value, at, depth);
    if (Array.isArray(value)) {
      this.enter(at, depth);
      return value.map((v, i) => this.expression(v, `${at}[${i}]`, depth + 1));
    }
    if (isPlainObject(value)) return this.expressionObject(value, at, depth);
    return this.literal(value, at, depth);
  }

  /** A field path (`$price`), a variable (`$$ROOT`) or a string. */
  private expressionString(value: string, at: string, depth: number): string {
    this.enter(at, depth);
    this.text(at, value);
    if (value.startsWith('$$') && !EXPRESSION_VARIABLE.test(value)) {
      fail(
        at,
        `variable ${value.split('.')[0]} is not allowed: an expression reads $$ROOT or $$CURRENT`,
      );
    }
    if (value.startsWith('$')) this.count(at);
    return value;
  }

  /** `{ $op: args }`, or an object whose values are expressions. */
  private expressionObject(value: JsonObject, at: string, depth: number): Json {
    const keys = Object.keys(value);
    if (keys[0] !== undefined && isOperator(keys[0])) {
      if (keys.length > 1) fail(at, `an expression holds one operator, not ${keys.join(', ')}`);
      return this.expressionOperator(keys[0], value[keys[0]], at, depth);
    }
    if (keys.some((k) => k.startsWith('$')))
      fail(at, 'an expression object mixes fields and operators');
    this.enter(at, depth);
    const entries = keys.map((k): [string, Json] => {
      this.key(at, k);
      return [k, this.expression(value[k], join(at, k), depth + 1)];
    });
    return Object.fromEntries(entries);
  }

  private expressionOperator(op: string, args: unknown, at: string, depth: number): Json {
    this.enter(at, depth);
    const where = join(at, op);
    this.text(where, op);
    if (!EXPRESSION_OPERATORS.has(op)) fail(where, `operator ${op} is not allowed in $expr`);
    this.count(where);
    if (op === '$literal') return { $literal: this.literal(args, where, depth + 1) };
    if (op === '$regexMatch') return { $regexMatch: this.regexMatch(args, where, depth + 1) };
    return { [op]: this.expression(args, where, depth + 1) };
  }

  /** `{ input, regex, options }`: the pattern and options constant, compiled now for RE2. */
  private regexMatch(args: unknown, at: string, depth: number): Json {
    if (!isPlainObject(args)) fail(at, '$regexMatch takes { input, regex, options }');
    const { input, regex, options = '', ...rest } = args;
    const extra = Object.keys(rest)[0];
    if (extra !== undefined) fail(join(at, extra), `$regexMatch takes input, regex and options`);
    if (input === undefined) fail(join(at, 'input'), '$regexMatch needs an input');
    const spec = {
      regex: constant(regex, join(at, 'regex')),
      options: constant(options, join(at, 'options')),
    };
    this.enter(at, depth);
    this.pattern(spec.regex, spec.options, join(at, 'regex'));
    return { input: this.expression(input, join(at, 'input'), depth + 1), ...spec };
  }

  /** Compiles a pattern for RE2 and counts its program against the filter's budget. */
  private pattern(pattern: string, options: string, at: string): void {
    this.text(at, pattern);
    let program: number;
    try {
      program = compileRegex(pattern, options).programSize();
    } catch (error) {
      fail(at, (error as Error).message);
    }
    this.regexProgram += program;
    if (this.regexProgram > LIMITS.regexProgram) {
      fail(
        at,
        `regular expressions exceed the RE2 program size of ${LIMITS.regexProgram} per filter`,
      );
    }
  }

  private enter(at: string, depth: number): void {
    if (++this.nodes > LIMITS.nodes) fail(at, `the filter holds more than ${LIMITS.nodes} values`);
    if (depth > LIMITS.depth) fail(at, `the filter nests deeper than ${LIMITS.depth} levels`);
  }

  private text<T extends string>(at: string, value: T): T {
    this.characters += value.length;
    if (this.characters > LIMITS.characters) {
      fail(at, `the filter holds more than ${LIMITS.characters} characters`);
    }
    return value;
  }

  /** A field name or an object's key; `__proto__` would change what mingo's copy of it is. */
  private key(at: string, key: string): void {
    if (key === '__proto__') fail(at, '__proto__ is not allowed as a key');
    this.text(at, key);
  }

  private count(at: string): void {
    if (++this.conditions > LIMITS.operators) {
      fail(at, `the filter holds more than ${LIMITS.operators} conditions and operators`);
    }
  }
}
