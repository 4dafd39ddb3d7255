/**
 * What history entries a waiting stream can care about, for waking only the streams a
 * change can concern (wake-index.ts). Made from the scope's store conditions
 * (scope-condition.ts): per collection, a condition that every document of the scope meets,
 * so a document that does not meet it, before or after the change, is none of the stream's
 * business. Checked in memory, widely: an array anywhere along a path meets the equality when
 * any element along it does, as MongoDB reads equality, and an array before the path's end
 * meets any equality (mingo, which decides, reads nested arrays further than MongoDB).
 */
import type { HistoryEntry, Json, JsonObject } from './model.js';
import { isJsonObject } from './model.js';
import {
  isAny,
  isEquality,
  isNone,
  type ScopeCondition,
  type ScopeEquality,
  type ScopeScalar,
} from './scope-condition.js';

/** One collection's part: its condition, and an equality it requires, to index by (if any). */
export interface CollectionInterest {
  readonly condition: ScopeCondition;
  readonly key: ScopeEquality | null;
}

/** By collection; a collection not named is of no interest. */
export type Interest = ReadonlyMap<string, CollectionInterest>;

/** An equality every document meeting `c` meets, to index by: the condition, or one of its ANDs. */
function requiredEquality(c: ScopeCondition): ScopeEquality | null {
  if (isEquality(c)) return c;
  if ('and' in c) return c.and.find(isEquality) ?? null;
  return null;
}

/** The interest of a scope's store conditions; collections it can see nothing of are left out. */
export function interestOf(conditions: ReadonlyMap<string, ScopeCondition>): Interest {
  const interest = new Map<string, CollectionInterest>();
  for (const [collection, condition] of conditions) {
    if (isNone(condition)) continue;
    interest.set(collection, { condition, key: requiredEquality(condition) });
  }
  return interest;
}

/** Where a map key of a scalar keeps its type: the string "1" and the number 1 differ. */
export const scalarKey = (v: ScopeScalar): string => `${typeof v}:${String(v)}`;

/**
 * What a document holds at a dotted path: the scalars there (each element of an array there,
 * at any depth), and whether an array lies along the path before its end, where an equality
 * may match more than those (mingo reads through nested arrays further than MongoDB does).
 */
export interface PathValues {
  scalars: ScopeScalar[];
  wide: boolean;
}

export function valuesAt(doc: JsonObject, path: string): PathValues {
  const found: PathValues = { scalars: [], wide: false };
  const visit = (value: Json | undefined, rest: readonly string[]): void => {
    if (value === undefined || value === null) return;
    if (Array.isArray(value)) {
      if (rest.length > 0) found.wide = true;
      return value.forEach((v) => visit(v, rest));
    }
    if (rest.length === 0) {
      if (typeof value !== 'object') found.scalars.push(value);
      return;
    }
    if (isJsonObject(value)) visit(value[rest[0]!], rest.slice(1));
  };
  visit(doc, path.split('.'));
  return found;
}

/** Whether `doc` may meet `c`: never false for a document that does. */
export function mayMeet(c: ScopeCondition, doc: JsonObject): boolean {
  if (isEquality(c)) {
    const { scalars, wide } = valuesAt(doc, c.path);
    return wide || scalars.some((v) => c.in.includes(v));
  }
  if (isAny(c)) return true;
  return 'and' in c ? c.and.every((p) => mayMeet(p, doc)) : c.or.some((p) => mayMeet(p, doc));
}

/** Whether the entry may change what a stream of this interest holds or must receive. */
export function concerns(interest: Interest, h: HistoryEntry): boolean {
  const part = interest.get(h.collection);
  if (!part) return false;
  return [h.before, h.after].some((doc) => doc !== null && mayMeet(part.condition, doc));
}
