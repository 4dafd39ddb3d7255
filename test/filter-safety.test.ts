/**
 * Filters that cannot freeze the gateway: regular expressions on RE2, an allow-list of
 * operators, and limits on a filter's size, for sync queries and for the rules file.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../src/config.js';
import {
  EXPRESSION_OPERATORS,
  FIELD_OPERATORS,
  FILTER_LIMITS,
  TOP_LEVEL_OPERATORS,
} from '../src/sync/filter-allowlist.js';
import type { JsonObject } from '../src/sync/model.js';
import { parseRules } from '../src/sync/permissions.js';
import { compileFilter } from '../src/sync/query-match.js';
import { startTestGateway, type TestGateway } from './helpers/gateway.js';
import { SyncTestClient } from './helpers/sync-client.js';

/** Thirty a's and a '!': `^(a|a)*$` backtracked 2^30 times on it, for 52 s. */
const EVIL = `${'a'.repeat(30)}!`;
const ALTERNATION = { name: { $regex: '^(a|a)*$' } };
const NESTED = { $expr: { $regexMatch: { input: '$name', regex: '^(a+)+$' } } };

describe('every allowed operator', () => {
  /** One filter per operator or group, with a document it matches and one it does not. */
  const samples: [JsonObject, JsonObject, JsonObject][] = [
    [{ n: { $eq: 1 } }, { n: 1 }, { n: 2 }],
    [{ n: { $ne: 1 } }, { n: 2 }, { n: 1 }],
    [{ n: { $gt: 1, $lte: 3 } }, { n: 3 }, { n: 1 }],
    [{ n: { $gte: 1, $lt: 3 } }, { n: 1 }, { n: 3 }],
    [{ make: { $in: ['Kia', 'VW'] } }, { make: 'VW' }, { make: 'BMW' }],
    [{ make: { $nin: ['Kia'] } }, { make: 'VW' }, { make: 'Kia' }],
    [{ color: { $exists: false } }, {}, { color: 'red' }],
    [{ n: { $type: 'string' } }, { n: 'x' }, { n: 1 }],
    [{ n: { $not: { $gt: 5 } } }, { n: 3 }, { n: 9 }],
    [{ tags: { $all: ['a', 'b'] } }, { tags: ['b', 'a', 'c'] }, { tags: ['a'] }],
    [
      { items: { $all: [{ $elemMatch: { qty: { $gt: 5 } } }] } },
      { items: [{ qty: 1 }, { qty: 9 }] },
      { items: [{ qty: 1 }] },
    ],
    [
      { items: { $elemMatch: { qty: { $gt: 5 }, sku: 'x' } } },
      { items: [{ qty: 9, sku: 'x' }] },
      { items: [{ qty: 9, sku: 'y' }] },
    ],
    [{ tags: { $size: 2 } }, { tags: [1, 2] }, { tags: [1] }],
    [{ n: { $mod: [4, 1] } }, { n: 9 }, { n: 8 }],
    [{ name: { $regex: '^jo', $options: 'i' } }, { name: 'John' }, { name: 'Mary' }],
    [
      { $and: [{ a: 1 }, { $or: [{ b: 1 }, { b: 2 }] }], $nor: [{ c: 1 }] },
      { a: 1, b: 2 },
      { a: 1, b: 2, c: 1 },
    ],
    [
      {
        $expr: {
          $and: [{ $or: [false, { $not: [false] }] }, { $eq: ['$a', 1] }, { $ne: ['$a', 2] }],
        },
      },
      { a: 1 },
      { a: 2 },
    ],
    [
      {
        $expr: {
          $and: [
            { $gt: ['$n', 1] },
            { $gte: ['$n', 2] },
            { $lt: ['$n', 3] },
            { $lte: ['$n', 2] },
            { $eq: [{ $cmp: ['$n', 1] }, 1] },
          ],
        },
      },
      { n: 2 },
      { n: 1 },
    ],
    [
      { $expr: { $eq: [{ $cond: [{ $ifNull: ['$x', false] }, 'yes', 'no'] }, 'no'] } },
      {},
      { x: true },
    ],
    [
      {
        $expr: {
          $eq: [
            {
              $add: [
                { $subtract: ['$n', 4] },
                { $multiply: [2, { $divide: [9, 3] }] },
                { $mod: [7, 4] },
              ],
            },
            15,
          ],
        },
      },
      { n: 10 },
      { n: 11 },
    ],
    [
      {
        $expr: {
          $eq: [
            {
              $add: [
                { $abs: '$n' },
                { $ceil: 1.2 },
                { $floor: 1.8 },
                { $round: [2.4, 0] },
                { $trunc: [1.9, 0] },
              ],
            },
            7.5,
          ],
        },
      },
      { n: -1.5 },
      { n: 1 },
    ],
    [
      {
        $expr: {
          $and: [
            { $eq: [{ $toLower: '$s' }, 'abc'] },
            { $eq: [{ $toUpper: '$s' }, 'ABC'] },
            { $eq: [{ $strLenCP: '$s' }, 3] },
            { $eq: [{ $substrCP: ['$s', 1, 1] }, 'B'] },
            { $eq: [{ $strcasecmp: ['$s', 'ABC'] }, 0] },
            { $regexMatch: { input: '$s', regex: '^ab', options: 'i' } },
          ],
        },
      },
      { s: 'aBc' },
      { s: 'abd' },
    ],
    [
      {
        $expr: {
          $and: [
            { $eq: [{ $size: '$t' }, 2] },
            { $in: ['x', '$t'] },
            { $eq: [{ $arrayElemAt: ['$t', 1] }, 'y'] },
            { $isArray: ['$t'] },
          ],
        },
      },
      { t: ['x', 'y'] },
      { t: ['y', 'x'] },
    ],
    [
      { $expr: { $and: [{ $eq: [{ $type: '$n' }, 'int'] }, { $isNumber: '$n' }] } },
      { n: 3 },
      { n: 'x' },
    ],
    [{ $expr: { $eq: ['$p', { $literal: '$p' }] } }, { p: '$p' }, { p: 'p' }],
    [
      { $expr: { $eq: ['$$ROOT.a', { $add: ['$$CURRENT.b', 1] }] } },
      { a: 2, b: 1 },
      { a: 1, b: 1 },
    ],
  ];

  it.each(samples)('%j matches with MongoDB semantics', (filter, yes, no) => {
    const match = compileFilter(filter);
    expect(match({ _id: 'yes', ...yes })).toBe(true);
    expect(match({ _id: 'no', ...no })).toBe(false);
  });

  it('is covered by the samples above', () => {
    const used = new Set(
      JSON.stringify(samples)
        .match(/"\$[a-zA-Z]+"/g)
        ?.map((s) => s.slice(1, -1)),
    );
    const allowed = [...TOP_LEVEL_OPERATORS, ...FIELD_OPERATORS, ...EXPRESSION_OPERATORS];
    expect(allowed.filter((op) => !used.has(op))).toEqual([]);
  });
});

describe('operators outside the allow-list', () => {
  it.each([
    [{ $where: 'this.a > 1' }, '$where: operator $where is not allowed in a filter'],
    [{ $jsonSchema: { required: ['a'] } }, 'operator $jsonSchema is not allowed'],
    [{ $text: { $search: 'x' } }, 'operator $text is not allowed'],
    [{ $comment: 'x' }, 'operator $comment is not allowed'],
    [{ a: { $bogus: 1 } }, 'a.$bogus: operator $bogus is not allowed in a filter'],
    [{ a: { $bitsAllSet: 1 } }, 'operator $bitsAllSet is not allowed'],
    [{ a: { $near: [0, 0] } }, 'operator $near is not allowed'],
    [{ $or: [{ a: { $not: { $where: 'x' } } }] }, '$or[0].a.$not.$where: operator $where'],
    [
      { $expr: { $function: { body: 'return true', args: [], lang: 'js' } } },
      '$expr.$function: operator $function is not allowed in $expr',
    ],
    [{ $expr: { $accumulator: {} } }, 'operator $accumulator is not allowed in $expr'],
    [{ $expr: { $regexFind: { input: '$a', regex: 'x' } } }, 'operator $regexFind is not allowed'],
    [
      { $expr: { $regexFindAll: { input: '$a', regex: 'x' } } },
      'operator $regexFindAll is not allowed',
    ],
    [{ $expr: { $let: { vars: { x: 1 }, in: '$$x' } } }, 'operator $let is not allowed'],
    [{ $expr: { $gt: [{ $size: { $range: [0, 1e9] } }, 0] } }, 'operator $range is not allowed'],
    [{ $expr: { $map: { input: '$a', in: '$$this' } } }, 'operator $map is not allowed'],
    [{ $expr: { $eq: [{ $concat: ['$a', '$a'] }, ''] } }, 'operator $concat is not allowed'],
    [{ $expr: { $lt: ['$at', '$$NOW'] } }, '$expr.$lt[1]: variable $$NOW is not allowed'],
    [
      { $expr: { $regexMatch: { input: '$a', regex: '$pattern' } } },
      '$expr.$regexMatch.regex: must be a constant string',
    ],
    [{ a: { $eq: 1, b: 2 } }, 'a.b: "b" is not an operator'],
    [{ a: { $options: 'i' } }, 'a.$options: $options needs a $regex beside it'],
    [{ a: { $in: 'x' } }, 'a.$in: $in must be a list'],
    [{ a: { $mod: [2] } }, 'a.$mod: $mod must be [divisor, remainder]'],
    [{ $or: [] }, '$or: $or must not be empty'],
    [{ a: { $not: 5 } }, 'a.$not: $not must hold operators'],
    [JSON.parse('{"__proto__": {"a": 1}}'), '__proto__ is not allowed as a key'],
    [JSON.parse('{"a": {"$eq": {"__proto__": 1}}}'), 'a.$eq: __proto__ is not allowed'],
  ])('%j is refused, naming it', (filter, message) => {
    expect(() => compileFilter(filter as JsonObject)).toThrow(message);
  });
});

describe('regular expressions run on RE2', () => {
  it.each([
    ['^(a|a)*$', ALTERNATION],
    ['^(a+)+$ in $regexMatch', NESTED],
    ['(a|aa)+$', { name: { $regex: '(a|aa)+$' } }],
    ['^(\\w+\\s?)*$', { name: { $regex: '^(\\w+\\s?)*$' } }],
  ])('%s answers correctly where a backtracking engine runs for hours', (_name, filter) => {
    const match = compileFilter(filter);
    expect(match({ _id: '1', name: EVIL })).toBe(false);
    expect(match({ _id: '2', name: `${'a'.repeat(200_000)}!` })).toBe(false);
    expect(match({ _id: '3', name: 'aaaa' })).toBe(true);
  });

  it.each([
    ['(a)\\1', 'backreferences (\\1, \\k<name>) are not supported'],
    ['(?<x>a)\\k<x>', 'backreferences'],
    ['a(?=b)', 'lookahead and lookbehind'],
    ['a(?!b)', 'lookahead and lookbehind'],
    ['(?<=a)b', 'lookahead and lookbehind'],
    ['(?<!a)b', 'lookahead and lookbehind'],
    ['(?>a+)b', 'cannot run on RE2'],
    ['a++', 'cannot run on RE2'],
    ['(', 'missing closing )'],
  ])('%s is refused, naming what RE2 cannot run', (pattern, message) => {
    expect(() => compileFilter({ name: { $regex: pattern } })).toThrow(
      `name.$regex: regular expression ${JSON.stringify(pattern)} cannot run on RE2`,
    );
    expect(() => compileFilter({ name: { $regex: pattern } })).toThrow(message);
    const expr = { $expr: { $regexMatch: { input: '$name', regex: pattern } } };
    expect(() => compileFilter(expr)).toThrow('$expr.$regexMatch.regex: regular expression');
  });

  it.each([
    ['x', '$options "x" (extended syntax) is not supported'],
    ['g', '$options "g" is not one of i, m, s, u'],
  ])('$options %s is refused', (options, message) => {
    expect(() => compileFilter({ name: { $regex: 'a', $options: options } })).toThrow(message);
  });
});

describe('limits on a filter', () => {
  const ids = Array.from({ length: 1000 }, (_, i) => `0000000${i}-0000-4000-8000-000000000000`);
  const deep = (n: number): JsonObject => (n === 0 ? { x: 1 } : { x: deep(n - 1) });

  it('leave room for real filters: a $in of 1000 ids, a few conditions and patterns', () => {
    const filter: JsonObject = {
      _id: { $in: ids },
      $or: [{ name: { $regex: '(?i)^jo' } }, { email: { $regex: '@example\\.com$' } }],
      $expr: { $gt: [{ $size: { $ifNull: ['$tags', []] } }, 0] },
    };
    expect(compileFilter(filter)({ _id: ids[5]!, name: 'Joe', tags: ['x'] })).toBe(true);
  });

  it.each([
    [
      'values',
      { a: Array.from({ length: FILTER_LIMITS.nodes }, (_, i) => i) },
      'more than 2000 values',
    ],
    ['nesting', { a: deep(FILTER_LIMITS.depth) }, 'nests deeper than 20 levels'],
    ['characters', { a: 'x'.repeat(FILTER_LIMITS.characters) }, 'more than 65536 characters'],
    [
      'conditions',
      { $and: Array.from({ length: FILTER_LIMITS.operators }, (_, i) => ({ [`f${i}`]: i })) },
      'more than 100 conditions and operators',
    ],
    [
      'list length',
      { a: { $in: Array.from({ length: 1001 }, (_, i) => i) } },
      '$in holds more than 1000 entries',
    ],
    ['pattern length', { a: { $regex: 'a'.repeat(257) } }, 'longer than 256 characters'],
    [
      'RE2 program size',
      { a: { $regex: '[ab]{70}' }, b: { $regex: '[ab]{70}' } },
      'b.$regex: regular expressions exceed the RE2 program size of 128 per filter',
    ],
  ])('refuse a filter over the limit of %s', (_name, filter, message) => {
    expect(() => compileFilter(filter as JsonObject)).toThrow(message);
  });
});

describe('the rules file', () => {
  let dir: string;
  beforeAll(() => void (dir = mkdtempSync(join(tmpdir(), 'filter-rules-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    [
      { collections: { cars: { read: { name: { $regex: '(a)\\1' } }, write: true } } },
      'rules.collections.cars.read is not a filter the gateway accepts: name.$regex: ' +
        'regular expression "(a)\\\\1" cannot run on RE2',
    ],
    [
      { collections: { cars: { read: true, write: { $where: 'true' } } } },
      'rules.collections.cars.write is not a filter the gateway accepts: $where: operator $where is not allowed',
    ],
    [
      { default: { read: { $expr: { $function: {} } }, write: true } },
      'rules.default.read is not a filter the gateway accepts: $expr.$function: operator $function',
    ],
  ])('refuses at load a rule that holds %j', (rules, message) => {
    expect(() => parseRules(rules)).toThrow(message);
  });

  it('stops the gateway from starting, naming the rule', async () => {
    const file = join(dir, 'bad-regex.json');
    const rules = {
      collections: {
        cars: { read: { ownerId: '%%user.id', n: { $regex: 'a(?=b)' } }, write: true },
      },
    };
    writeFileSync(file, JSON.stringify(rules));
    const start = startTestGateway({ env: { RULES_FILE: file } });
    await expect(start).rejects.toThrow(ConfigError);
    await expect(start).rejects.toThrow(
      '--rules / RULES_FILE: rules.collections.cars.read is not a filter the gateway accepts: n.$regex:',
    );
    await expect(start).rejects.toThrow('lookahead and lookbehind');
  });
});

describe('through a real gateway', () => {
  let gw: TestGateway;
  beforeEach(async () => void (gw = await startTestGateway()));
  afterEach(async () => gw.close());

  const OPEN = `mutation ($input: OpenSessionInput!) { openSession(input: $input) { id } }`;
  const UPDATE = `mutation ($s: ID!, $q: [SyncQueryInput!]!) { updateQueries(sessionId: $s, queries: $q) { id } }`;
  const car = (id: string, name: string) => ({
    collection: 'cars',
    id,
    op: 'INSERT' as const,
    document: { ownerId: 'alice', name },
  });

  async function session(clientId: string, filter?: JsonObject) {
    const c = new SyncTestClient(gw.ws(await gw.token('alice')), clientId);
    await c.open([{ collection: 'cars', filter }]);
    c.startDownload();
    return c;
  }

  const health = () => fetch(new URL('/health', gw.gateway.url)).then((r) => r.status);

  it.each([
    ['$regex', ALTERNATION],
    ['$expr/$regexMatch', NESTED],
  ])(
    'a %s filter that backtracked for 52 s is matched on RE2 while /health answers',
    async (_name, filter) => {
      const live = await session('live', filter);
      const writer = await session('writer');
      const ack = await writer.upload([car('evil', EVIL), car('good', 'aaaa')]);
      expect(ack.errors).toBeUndefined();
      const version = ack.data!.uploadChanges.serverVersion;
      const [status] = await Promise.all([health(), live.untilVersion(version)]);
      expect(status).toBe(200);
      const late = await session('late', filter);
      const [again] = await Promise.all([health(), late.untilVersion(version)]);
      expect(again).toBe(200);
      for (const c of [live, late]) expect([...c.docs.keys()]).toEqual(['cars/good']);
    },
  );

  it('refuses a filter RE2 cannot run or an operator outside the list with BAD_USER_INPUT', async () => {
    const alice = await gw.token('alice');
    const open = (queries: unknown) => gw.http(OPEN, { input: { clientId: 'x', queries } }, alice);
    const refused = await open([
      { collection: 'cars' },
      { collection: 'cars', filter: { name: { $regex: '^(a)\\1$' } } },
    ]);
    expect(refused.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(refused.errors?.[0]?.message).toContain('queries[1].filter');
    expect(refused.errors?.[0]?.message).toContain('backreferences');
    const opened = await gw.http<{ openSession: { id: string } }>(
      OPEN,
      { input: { clientId: 'y', queries: [] } },
      alice,
    );
    const where = { collection: 'cars', filter: { $where: 'sleep(100000)' } };
    const r = await gw.http(UPDATE, { s: opened.data!.openSession.id, q: [where] }, alice);
    expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(r.errors?.[0]?.message).toContain('queries[0].filter');
    expect(r.errors?.[0]?.message).toContain('operator $where is not allowed');
  });
});
