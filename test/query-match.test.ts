import { describe, expect, it } from 'vitest';
import { compileFilter } from '../src/sync/query-match.js';

describe('filters', () => {
  it('match with MongoDB semantics', () => {
    const match = compileFilter({ year: { $gte: 2020 }, make: { $in: ['Kia', 'VW'] } });
    expect(match({ _id: '1', year: 2021, make: 'Kia' })).toBe(true);
    expect(match({ _id: '2', year: 2019, make: 'Kia' })).toBe(false);
  });

  it('accept plain regular expressions', () => {
    expect(compileFilter({ make: { $regex: '^Ki' } })({ _id: '1', make: 'Kia' })).toBe(true);
  });

  it.each([
    [{ name: { $regex: '^(a+)+$' } }, 'nest quantifiers'],
    [{ name: { $regex: '(a|b*)*c' } }, 'nest quantifiers'],
    [{ name: { $not: { $regex: '(x{2,})+' } } }, 'nest quantifiers'],
    [{ name: { $regex: 'a'.repeat(300) } }, 'longer than'],
    [{ $where: 'true' }, '$where is not allowed'],
  ])('refuse %j, which could block the event loop', (filter, message) => {
    expect(() => compileFilter(filter)).toThrow(message);
  });
});
