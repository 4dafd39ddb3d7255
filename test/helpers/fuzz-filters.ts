/**
 * Generated MongoDB filters for `openSession` / `updateQueries`: field conditions with random
 * operators (the query language's, unknown ones, and the dangerous ones: `$where`,
 * `$function`, `$accumulator`, regular expressions that backtrack), logical operators and
 * `$expr` aggregation expressions. Each case says whether the contract requires a refusal.
 */
import fc from 'fast-check';
import { RawJson } from './fuzz-harness.js';

/** Operators that run code: refused wherever they appear (src/sync/query-match.ts). */
export const CODE_OPERATORS = ['$where', '$function', '$accumulator'];

/** Patterns that compile and do not backtrack badly. */
const SAFE_REGEX = ['a', '^abc', '[0-9]+', '.*', '\\d{3}', 'x|y', '(ab)+', '^$', 'a{2,3}', 'ü'];
/** Patterns that do not compile (a refusal, with its message). */
const BROKEN_REGEX = ['(', '[', '\\', '*', 'a{2,1}', '(?<n>a)\\k<m>'];
/** Nested quantifiers, once refused by their shape; RE2 runs them in linear time. */
const NESTED_REGEX = ['(a+)+', '(a*)*', '(x{2,})+', '(a|b*)*', '^(\\w+\\s?)*$', '(.*a){12}'];
/**
 * Patterns that backtrack exponentially without a nested quantifier: `(a|a)*` on
 * "aaaa...!" takes seconds in V8's backtracking engine.
 */
const BACKTRACKING_REGEX = ['^(a|a)*$', '^(a|aa)+$', '^(\\d|\\d\\d)+$', '(\\w|_)*!$'];

// The committed matcher of 9647f0e ran filters on JavaScript's RegExp and evaluated `$expr`
// without bounds: `$regexMatch` with a backtracking pattern hung openSession, `$range` of
// 10^8 hung or crashed it. RE2 and the allow-list (d010b74) refuse or bound all of these;
// the generators keep them as regressions.
const FIELD_REGEX = [...SAFE_REGEX, ...BROKEN_REGEX, ...NESTED_REGEX, ...BACKTRACKING_REGEX];
const EXPR_REGEX = FIELD_REGEX;
const MAX_RANGE = 1_000_000_000;

const FIELD_OPERATORS = [
  '$eq',
  '$ne',
  '$gt',
  '$gte',
  '$lt',
  '$lte',
  '$in',
  '$nin',
  '$exists',
  '$type',
  '$not',
  '$all',
  '$elemMatch',
  '$size',
  '$mod',
  '$bitsAllSet',
  '$bitsAnyClear',
  '$text',
  '$near',
  '$geoWithin',
  '$comment',
  '$bogus',
  '$',
  '$$ROOT',
  '$options',
];

const fieldPath = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom('name', 'n', 'tags', 'ownerId', '_id', 'meta') },
  fc.constantFrom('meta.x', 'tags.0', 'a.b.c', '', '__proto__', 'constructor', 'x$', '.', 'a..b'),
  fc.stringMatching(/^[a-z]{1,6}(\.[a-z]{1,6}){0,2}$/),
);

const literal = fc.oneof(
  fc.string({ maxLength: 10 }),
  fc.integer({ min: -1000, max: 1000 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom({ $date: '2026-11-27T10:00:00.000Z' }, { $oid: '5f1d7a2b9c8e4a3b2c1d0e9f' }),
  fc.array(fc.oneof(fc.string({ maxLength: 5 }), fc.integer()), { maxLength: 3 }),
);

export interface FilterCase {
  filter: unknown;
  mustRefuse: boolean;
  labels: string[];
}

type Tagged = { value: unknown; refuse: boolean; labels: string[] };

const leaf = (value: unknown, refuse = false, label?: string): Tagged => ({
  value,
  refuse,
  labels: label ? [label] : [],
});

function objectOf(entries: [string, Tagged][]): Tagged {
  const value: Record<string, unknown> = {};
  for (const [k, v] of entries) {
    Object.defineProperty(value, k, {
      value: v.value,
      enumerable: true,
      configurable: true,
      writable: true,
    });
  }
  // A repeated key keeps its last value.
  const used = entries.filter(([k], i) => entries.findLastIndex(([k2]) => k2 === k) === i);
  return {
    value,
    refuse: used.some(([, v]) => v.refuse),
    labels: used.flatMap(([, v]) => v.labels),
  };
}

/** A value in a literal position: never run, so nothing in it must be refused. */
const literalOf = (t: Tagged): Tagged => ({ ...t, refuse: false });

const arrayOf = (items: Tagged[]): Tagged => ({
  value: items.map((i) => i.value),
  refuse: items.some((i) => i.refuse),
  labels: items.flatMap((i) => i.labels),
});

/** A regular expression operand, tagged with whether `$regex` must refuse it. */
const fieldRegex = fc.constantFrom(...FIELD_REGEX).map((p) => ({
  pattern: p,
  // Refused by shape while filters ran on JavaScript's RegExp; RE2 runs them in linear time.
  nested: false,
}));

const codeOperator = fc
  .constantFrom(...CODE_OPERATORS)
  .map((op) =>
    objectOf([
      [
        op,
        leaf(
          op === '$where' ? 'sleep(100) || true' : { body: 'return true', args: [], lang: 'js' },
        ),
      ],
    ]),
  );

/** Aggregation expressions for `$expr`. */
const { expr } = fc.letrec<{ expr: Tagged }>((tie) => ({
  expr: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    literal.map((v) => leaf(v)),
    fc.constantFrom('$name', '$n', '$tags', '$$ROOT', '$$CURRENT', '$$NOW').map((v) => leaf(v)),
    fc
      .tuple(
        fc.constantFrom('$eq', '$gt', '$lt', '$ne', '$add', '$concat', '$multiply', '$pow'),
        tie('expr'),
        tie('expr'),
      )
      .map(([op, a, b]) => objectOf([[op, arrayOf([a, b])]])),
    fc
      .tuple(
        fc.constantFrom('$regexMatch', '$regexFind', '$regexFindAll'),
        fc.constantFrom(...EXPR_REGEX),
      )
      .map(([op, regex]) =>
        leaf({ [op]: { input: 'a'.repeat(30) + '!', regex } }, false, `${op} ${regex}`),
      ),
    fc
      .tuple(fc.integer({ min: -5, max: MAX_RANGE }), fc.integer({ min: 1, max: 3 }))
      .map(([end, step]) => leaf({ $size: { $range: [0, end, step] } }, false, `$range ${end}`)),
    fc.integer({ min: 1, max: 40 }).map((n) =>
      leaf(
        {
          $strLenCP: {
            $reduce: {
              input: { $range: [0, n] },
              initialValue: 'ab',
              in: { $concat: ['$$value', '$$value'] },
            },
          },
        },
        false,
        `$reduce doubling ${n} times`,
      ),
    ),
    tie('expr').map((e) => objectOf([['$literal', literalOf(e)]])),
    tie('expr').map((e) => objectOf([['$toString', e]])),
    fc
      .constantFrom('$size', '$strLenCP', '$bogusExpr')
      .chain((op) => tie('expr').map((e) => objectOf([[op, e]]))),
    codeOperator.map((t) => ({ ...t, refuse: true, labels: [`code operator in $expr`] })),
  ),
}));

/** A field's condition: a literal, or operators. */
const { filter } = fc.letrec<{ condition: Tagged; filter: Tagged }>((tie) => ({
  condition: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    literal.map((v) => leaf(v)),
    fc
      .array(
        fc.tuple(
          fc.constantFrom(...FIELD_OPERATORS),
          fc.oneof(
            literal.map((v) => leaf(v)),
            tie('condition'),
          ),
        ),
        { minLength: 1, maxLength: 2 },
      )
      // Only $not and $elemMatch take conditions; other operators compare their operand as a
      // literal value, where a code operator's name is data (accepted by the allow-list).
      .map((entries) =>
        objectOf(
          entries.map(([op, t]): [string, Tagged] => [
            op,
            op === '$not' || op === '$elemMatch' ? t : literalOf(t),
          ]),
        ),
      ),
    fc.tuple(fieldRegex, fc.constantFrom(undefined, 'i', 'ms', 'zz', 'g')).map(([r, options]) => {
      const entries: [string, Tagged][] = [
        ['$regex', leaf(r.pattern, r.nested, `$regex ${r.pattern}`)],
      ];
      if (options !== undefined) entries.push(['$options', leaf(options)]);
      return objectOf(entries);
    }),
    fieldRegex.map((r) => objectOf([['$not', objectOf([['$regex', leaf(r.pattern, r.nested)]])]])),
    tie('filter').map((f) => objectOf([['$elemMatch', f]])),
    codeOperator.map((t) => ({ ...t, refuse: true, labels: ['code operator in a condition'] })),
  ),
  filter: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc
      .array(fc.tuple(fieldPath, tie('condition')), { maxLength: 3 })
      .map((entries) => objectOf(entries)),
    fc
      .tuple(
        fc.constantFrom('$and', '$or', '$nor'),
        fc.array(tie('filter'), { minLength: 0, maxLength: 3 }),
      )
      .map(([op, list]) => objectOf([[op, arrayOf(list)]])),
    expr.map((e) => objectOf([['$expr', e]])),
    codeOperator.map((t) => ({ ...t, refuse: true, labels: ['code operator at the top'] })),
    fc
      .constantFrom('$text', '$comment', '$jsonSchema', '$bogus', '$sampleRate', '$rand')
      .map((op) => objectOf([[op, leaf({ $search: 'x' })]])),
  ),
}));

export const filterCase: fc.Arbitrary<FilterCase> = fc.oneof(
  {
    weight: 8,
    arbitrary: filter.map((t) => ({ filter: t.value, mustRefuse: t.refuse, labels: t.labels })),
  },
  fc.constantFrom<unknown>([1], 'x', 5, true, [{}]).map((v): FilterCase => ({
    filter: v,
    mustRefuse: true,
    labels: ['a filter that is not an object'],
  })),
  fc.constant<FilterCase>({ filter: null, mustRefuse: false, labels: ['no filter'] }),
  fc.integer({ min: 100, max: 20_000 }).map((n) => ({
    filter: new RawJson('{"a":'.repeat(n) + '1' + '}'.repeat(n), `<filter nested ${n} levels>`),
    mustRefuse: false,
    labels: [`a filter nested ${n} levels`],
  })),
);

export interface QueriesCase {
  queries: { collection: unknown; filter?: unknown }[];
  mustRefuse: boolean;
  labels: string[];
}

const BAD_COLLECTIONS = ['$cars', '', 'a'.repeat(65), '__sync_sessions', 'cars.x', '1cars'];

export const queriesCase: fc.Arbitrary<QueriesCase> = fc.oneof(
  {
    weight: 10,
    arbitrary: fc
      .array(
        fc.tuple(
          fc.oneof(
            {
              weight: 9,
              arbitrary: fc.constantFrom('cars', 'notes').map((c) => ({ c, bad: false })),
            },
            fc.constantFrom(...BAD_COLLECTIONS).map((c) => ({ c, bad: true })),
          ),
          filterCase,
          fc.boolean(),
        ),
        { minLength: 0, maxLength: 3 },
      )
      .map((list) => ({
        queries: list.map(([c, f, omit]) =>
          omit && f.filter === null ? { collection: c.c } : { collection: c.c, filter: f.filter },
        ),
        mustRefuse: list.some(([c, f]) => c.bad || f.mustRefuse),
        labels: list.flatMap(([c, f]) => [...(c.bad ? [`collection ${c.c}`] : []), ...f.labels]),
      })),
  },
  fc.integer({ min: 101, max: 300 }).map((n) => ({
    queries: Array.from({ length: n }, (_, i) => ({ collection: 'cars', filter: { i } })),
    mustRefuse: true,
    labels: [`${n} queries`],
  })),
);

export const clientIdCase = fc.oneof(
  {
    weight: 10,
    arbitrary: fc.stringMatching(/^[a-z0-9]{1,10}$/).map((id) => ({ id: `f-${id}`, bad: false })),
  },
  fc.constantFrom('', 'x'.repeat(129), 'a|b', '__gateway').map((id) => ({ id, bad: true })),
  fc.constantFrom('\u0000', '😀', ' ', 'x'.repeat(128)).map((id) => ({ id, bad: false })),
);
