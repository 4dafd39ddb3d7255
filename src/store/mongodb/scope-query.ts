/**
 * A ScopeCondition (sync/scope-condition.ts) as a query filter on a plain collection, and
 * the indexes that answer it.
 *
 * An equality on a top-level field is `{ field: { $in: values } }`: MongoDB matches an array
 * field holding one of them, compares numbers by value and strings and booleans exactly
 * (https://www.mongodb.com/docs/manual/reference/operator/query/in/), as mingo does on the
 * JSON the store reads (json-values.ts: a date or a decimal reads as an Extended JSON
 * object, which equals no scalar). A dotted path is left out (no condition): mingo looks
 * into arrays nested in arrays along it, where MongoDB does not, so MongoDB's answer could
 * be narrower than the scope.
 */
import type { Filter } from 'mongodb';
import { isAny, isEquality, isNone, type ScopeCondition } from '../../sync/scope-condition.js';
import type { PlainDoc } from './collections.js';

/** The filter of a condition: {} for every document, null for none. */
export function conditionFilter(c: ScopeCondition): Filter<PlainDoc> | null {
  if (isNone(c)) return null;
  if (isEquality(c)) return c.path.includes('.') ? {} : { [c.path]: { $in: [...c.in] } };
  if (isAny(c)) return {};
  const parts = ('and' in c ? c.and : c.or).map(conditionFilter);
  return 'and' in c ? allFilters(parts) : anyFilter(parts);
}

const isEmpty = (f: Filter<PlainDoc>) => Object.keys(f).length === 0;

function allFilters(parts: (Filter<PlainDoc> | null)[]): Filter<PlainDoc> | null {
  if (parts.includes(null)) return null;
  const narrowing = (parts as Filter<PlainDoc>[]).filter((f) => !isEmpty(f));
  if (narrowing.length === 0) return {};
  return narrowing.length === 1 ? narrowing[0]! : { $and: narrowing };
}

function anyFilter(parts: (Filter<PlainDoc> | null)[]): Filter<PlainDoc> | null {
  const some = parts.filter((f): f is Filter<PlainDoc> => f !== null);
  if (some.length === 0) return null;
  if (some.some(isEmpty)) return {};
  return some.length === 1 ? some[0]! : { $or: some };
}

/**
 * The index of a rule's field on a plain collection: with `_id`, so finding the ids of one
 * user's documents reads the index alone (a covered query:
 * https://www.mongodb.com/docs/manual/core/query-optimization/#covered-query).
 */
export const scopeIndex = (path: string) => ({
  key: { [path]: 1, _id: 1 },
  name: `sync_scope_${path}`,
});
