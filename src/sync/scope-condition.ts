/**
 * A condition a store can answer by index, narrowing a read of one collection to the
 * documents a scope may hold (scope-pushdown.ts makes it from MongoDB filters). It is a
 * superset, never the decision: the store returns at least every document meeting it and
 * may return more; `Scope.includes` then decides exactly.
 *
 *   { path: 'ownerId', in: ['u1'] }   the value at the dotted path equals one of `in`, as
 *                                     MongoDB reads equality: an array at the path (or along
 *                                     it) meets it when it holds one
 *   { and: [...] }                    all of them; { and: [] } is every document (ANY)
 *   { or: [...] }                     one of them; { or: [] } is no document (NONE)
 */
export type ScopeScalar = string | number | boolean;

export interface ScopeEquality {
  readonly path: string;
  readonly in: readonly ScopeScalar[];
}

export type ScopeCondition =
  | { readonly and: readonly ScopeCondition[] }
  | { readonly or: readonly ScopeCondition[] }
  | ScopeEquality;

export const ANY: ScopeCondition = { and: [] };
export const NONE: ScopeCondition = { or: [] };

export const isAny = (c: ScopeCondition): boolean => 'and' in c && c.and.length === 0;
export const isNone = (c: ScopeCondition): boolean => 'or' in c && c.or.length === 0;
export const isEquality = (c: ScopeCondition): c is ScopeEquality => 'path' in c;

/** All of `parts`: nested ANDs flattened, ANY dropped, NONE if one is NONE. */
export function allOf(parts: readonly ScopeCondition[]): ScopeCondition {
  const flat = parts.flatMap((p) => ('and' in p ? p.and : [p]));
  if (flat.some(isNone)) return NONE;
  return flat.length === 1 ? flat[0]! : { and: flat };
}

/** One of `parts`: nested ORs flattened, NONE dropped, ANY if one is ANY. */
export function anyOf(parts: readonly ScopeCondition[]): ScopeCondition {
  const flat = parts.flatMap((p) => ('or' in p ? p.or : [p]));
  if (flat.some(isAny)) return ANY;
  return flat.length === 1 ? flat[0]! : { or: flat };
}

/** Every path a condition's equalities test, once each. */
export function conditionPaths(c: ScopeCondition): string[] {
  if (isEquality(c)) return [c.path];
  const parts = 'and' in c ? c.and : c.or;
  return [...new Set(parts.flatMap(conditionPaths))];
}

/**
 * A path a store may index and name in its queries: dot-separated names of letters, digits
 * and `_` (not starting with a digit, so never an array position), at most 8 deep.
 */
export const isIndexablePath = (path: string): boolean =>
  path.length <= 200 &&
  path.split('.').length <= 8 &&
  path.split('.').every((s) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(s));

/** A field the rules test, which a store should index: in one collection, or in any (null). */
export interface ScopeIndex {
  collection: string | null;
  path: string;
}
