import { Query } from 'mingo';
import { describe, expect, it } from 'vitest';
import { checkFilter, compileFilter } from '../src/sync/query-match.js';
import type { JsonObject } from '../src/sync/model.js';

describe('filters', () => {
  it('match with MongoDB semantics', () => {
    const match = compileFilter({ year: { $gte: 2020 }, make: { $in: ['Kia', 'VW'] } });
    expect(match({ _id: '1', year: 2021, make: 'Kia' })).toBe(true);
    expect(match({ _id: '2', year: 2019, make: 'Kia' })).toBe(false);
  });

  it('match everything when empty or null', () => {
    expect(compileFilter(null)({ _id: '1' })).toBe(true);
    expect(compileFilter({})({ _id: '1' })).toBe(true);
  });

  it('read objects without a prototype, as GraphQL reads JSON literals', () => {
    const literal = (entries: Record<string, unknown>) =>
      Object.assign(Object.create(null) as JsonObject, entries);
    const filter = literal({ color: 'blue', n: literal({ $in: [1, 2] }) });
    expect(compileFilter(filter)({ _id: '1', color: 'blue', n: 2 })).toBe(true);
  });

  it('accept plain regular expressions', () => {
    expect(compileFilter({ make: { $regex: '^Ki' } })({ _id: '1', make: 'Kia' })).toBe(true);
  });

  it.each([
    [{ name: { $regex: '^(a+)+$' } }],
    [{ name: { $regex: '(a|b*)*c' } }],
    [{ name: { $not: { $regex: '(x{2,})+' } } }],
  ])('run %j, once refused for its nested quantifiers, in linear time', (filter) => {
    const doc = { _id: '1', name: `${'a'.repeat(100_000)}!` };
    expect(typeof compileFilter(filter)(doc)).toBe('boolean');
  });

  it.each([
    [{ name: { $regex: 'a'.repeat(300) } }, 'longer than'],
    [{ $where: 'true' }, '$where is not allowed'],
  ])('refuse %j, which could block the event loop', (filter, message) => {
    expect(() => compileFilter(filter)).toThrow(message);
    expect(() => checkFilter(filter)).toThrow(message);
  });
});

describe('regular expressions on RE2 agree with mingo on JavaScript RegExp', () => {
  const docs: JsonObject[] = [
    { _id: '1', name: 'John Smith', tags: ['red', 'Blue'] },
    { _id: '2', name: 'jane\ndoe', tags: [['xy', 'z'], 'q'] },
    { _id: '3', name: 42, tags: [[['deep']]] },
    { _id: '4', items: [{ sku: 'ab-1' }, { sku: ['cd-2', 'ef-3'] }] },
    { _id: '5' },
  ];
  it.each<[JsonObject]>([
    [{ name: { $regex: '^jo' } }],
    [{ name: { $regex: '^jo', $options: 'i' } }],
    [{ name: { $regex: '^doe', $options: 'm' } }],
    [{ name: { $regex: 'jane.doe', $options: 's' } }],
    [{ name: { $regex: 'jane.doe' } }],
    [{ name: { $regex: 'Smith$' } }],
    [{ tags: { $regex: '^x' } }],
    [{ tags: { $regex: '^(red|q)$' } }],
    [{ tags: { $regex: '^deep' } }],
    [{ tags: { $elemMatch: { $regex: '^B', $options: 'i' } } }],
    [{ 'items.sku': { $regex: '-[23]$' } }],
    [{ items: { $elemMatch: { sku: { $regex: '^ab' } } } }],
    [{ name: { $not: { $regex: '^J' } } }],
    [{ name: { $regex: '', $ne: 'x' } }],
    [{ $or: [{ name: { $regex: 'Sm' } }, { tags: { $regex: 'z' } }] }],
  ])('%j', (filter) => {
    const mingo = new Query(filter);
    const match = compileFilter(filter);
    for (const doc of docs) expect(match(doc), doc._id as string).toBe(mingo.test(doc));
  });

  it('read RE2 syntax as MongoDB reads PCRE: inline flags, \\pL, \\x{...}', () => {
    expect(compileFilter({ n: { $regex: '(?i)^JOHN' } })({ _id: '1', n: 'john' })).toBe(true);
    expect(compileFilter({ n: { $regex: '^\\pL+$' } })({ _id: '1', n: 'Ærø' })).toBe(true);
    expect(compileFilter({ n: { $regex: '\\x{e9}' } })({ _id: '1', n: 'café' })).toBe(true);
  });
});

describe('expressions in $expr', () => {
  it('match with $regexMatch on RE2', () => {
    const match = compileFilter({
      $expr: { $regexMatch: { input: { $toLower: '$name' }, regex: '^jo', options: 'm' } },
    });
    expect(match({ _id: '1', name: 'JOHN' })).toBe(true);
    expect(match({ _id: '2', name: 'Mary' })).toBe(false);
    expect(match({ _id: '3', name: 7 })).toBe(false);
  });

  it('do not match a document on which they fail, rather than throw', () => {
    const match = compileFilter({ $expr: { $gt: [{ $add: ['$n', 1] }, 0] } });
    expect(match({ _id: '1', n: 1 })).toBe(true);
    expect(match({ _id: '2', n: 'one' })).toBe(false);
  });
});
