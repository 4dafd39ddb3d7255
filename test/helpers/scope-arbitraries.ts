/**
 * Generated documents, filters and read rules for scope tests: arrays, nested arrays, nulls,
 * missing fields, numbers, strings that look like numbers, $or, $in, and operators that do
 * not translate to a store condition.
 */
import fc from 'fast-check';
import type { JsonObject } from '../../src/sync/model.js';
import type { RulesConfig } from '../../src/sync/permissions.js';

export const USERS = ['u1', 'u2'];
const scalar = fc.constantFrom<unknown>('u1', 'u2', '1', '', 1, 2, 0, -1, 0.5, true, false, null);
const value: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: scalar },
  { weight: 1, arbitrary: fc.array(scalar, { maxLength: 3 }) },
  { weight: 1, arbitrary: fc.array(fc.array(scalar, { maxLength: 2 }), { maxLength: 2 }) },
  { weight: 1, arbitrary: fc.record({ b: scalar }, { requiredKeys: [] }) },
  { weight: 1, arbitrary: fc.array(fc.record({ b: value_b() }), { maxLength: 2 }) },
);
function value_b() {
  return fc.oneof(scalar, fc.array(scalar, { maxLength: 2 }));
}
const FIELDS = ['ownerId', 'n', 'flag', 'tags', 'a'];
export const doc = fc.dictionary(fc.constantFrom(...FIELDS), value, {
  maxKeys: 4,
}) as fc.Arbitrary<JsonObject>;

const PATHS = ['ownerId', 'n', 'flag', 'tags', 'a', 'a.b', 'tags.0', '_id'];
const condition = fc.oneof(
  { weight: 4, arbitrary: scalar },
  { weight: 1, arbitrary: fc.array(scalar, { maxLength: 2 }) },
  { weight: 2, arbitrary: fc.record({ $eq: scalar }) },
  { weight: 3, arbitrary: fc.record({ $in: fc.array(scalar, { maxLength: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ $ne: scalar }) },
  { weight: 1, arbitrary: fc.record({ $nin: fc.array(scalar, { maxLength: 2 }) }) },
  { weight: 1, arbitrary: fc.record({ $exists: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ $gt: scalar }) },
  { weight: 1, arbitrary: fc.record({ $all: fc.array(scalar, { minLength: 1, maxLength: 2 }) }) },
);
const fieldFilter = fc.dictionary(fc.constantFrom(...PATHS), condition, {
  minKeys: 1,
  maxKeys: 2,
});
export const filter: fc.Arbitrary<JsonObject> = fc.oneof(
  { weight: 3, arbitrary: fieldFilter },
  {
    weight: 1,
    arbitrary: fc.record({ $or: fc.array(fieldFilter, { minLength: 1, maxLength: 3 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ $and: fc.array(fieldFilter, { minLength: 1, maxLength: 2 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ $nor: fc.array(fieldFilter, { minLength: 1, maxLength: 2 }) }),
  },
) as fc.Arbitrary<JsonObject>;

export const READ_RULES: RulesConfig['default']['read'][] = [
  { ownerId: '%%user.id' },
  true,
  { $or: [{ ownerId: '%%user.id' }, { flag: true }] },
  { 'a.b': '%%user.id' },
  { tags: { $in: ['%%user.id', 1] } },
];
