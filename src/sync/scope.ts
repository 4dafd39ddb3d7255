/** A session's download scope: documents matching one of its queries that the user may read. */
import type { JsonObject, SyncQuery } from './model.js';
import type { UserPermissions } from './permissions.js';
import { interestOf, type Interest } from './interest.js';
import { compileFilter, type Matcher } from './query-match.js';
import { allOf, anyOf, type ScopeCondition } from './scope-condition.js';
import { pushdown, ruleCondition } from './scope-pushdown.js';

export class Scope {
  private readonly byCollection = new Map<string, Matcher[]>();
  private readonly filters = new Map<string, (JsonObject | null)[]>();

  constructor(
    queries: readonly SyncQuery[],
    private readonly perms: UserPermissions,
  ) {
    for (const q of queries) {
      const list = this.byCollection.get(q.collection) ?? [];
      list.push(compileFilter(q.filter));
      this.byCollection.set(q.collection, list);
      this.filters.set(q.collection, [...(this.filters.get(q.collection) ?? []), q.filter]);
    }
  }

  private keyText: string | null = null;
  private interestMap: Interest | null = null;

  /**
   * Equal for scopes that include the same documents by construction: the same queries
   * and the same read rule (the user's id in it) per collection.
   */
  get key(): string {
    this.keyText ??= JSON.stringify(
      [...this.filters].map(([c, filters]) => [c, filters, this.perms.readRule(c)]),
    );
    return this.keyText;
  }

  /** What history entries can concern a stream of this scope (interest.ts). */
  get interest(): Interest {
    this.interestMap ??= interestOf(this.storeConditions());
    return this.interestMap;
  }

  get collections(): string[] {
    return [...this.byCollection.keys()];
  }

  includes(collection: string, doc: JsonObject | null): boolean {
    if (doc === null) return false;
    const matchers = this.byCollection.get(collection);
    if (!matchers || !matchers.some((m) => m(doc))) return false;
    return this.perms.canRead(collection, doc);
  }

  /** What a store may narrow a read of `collection` by: one of the queries (NONE if none). */
  queryCondition(collection: string): ScopeCondition {
    return anyOf((this.filters.get(collection) ?? []).map(pushdown));
  }

  /** What a store may narrow a read of `collection` by: the user's read rule. */
  readCondition(collection: string): ScopeCondition {
    return ruleCondition(this.perms.readRule(collection));
  }

  /**
   * Per collection of the scope, a condition selecting a superset of its documents in the
   * scope (scope-condition.ts), for a store read to narrow by; `includes` decides exactly.
   */
  storeConditions(): Map<string, ScopeCondition> {
    return new Map(
      this.collections.map((c) => [c, allOf([this.queryCondition(c), this.readCondition(c)])]),
    );
  }
}

/** Scopes alive, by the user's permissions, then by their queries. */
const scopes = new WeakMap<UserPermissions, Map<string, WeakRef<Scope>>>();
const forgetScope = new FinalizationRegistry<{
  byQueries: Map<string, WeakRef<Scope>>;
  key: string;
}>(({ byQueries, key }) => {
  if (byQueries.get(key)?.deref() === undefined) byQueries.delete(key);
});

/**
 * The scope of `queries` for the user of `perms`: one object for as long as any stream
 * holds it, so that a session's `changes` and `progress` (and sessions alike) share its
 * compiled filters. A Scope never changes once made.
 */
export function scopeOf(queries: readonly SyncQuery[], perms: UserPermissions): Scope {
  let byQueries = scopes.get(perms);
  if (!byQueries) scopes.set(perms, (byQueries = new Map()));
  const key = JSON.stringify(queries.map((q) => [q.collection, q.filter ?? null]));
  const alive = byQueries.get(key)?.deref();
  if (alive) return alive;
  const scope = new Scope(queries, perms);
  byQueries.set(key, new WeakRef(scope));
  forgetScope.register(scope, { byQueries, key });
  return scope;
}

/**
 * Per collection of either scope, a condition selecting a superset of the documents in
 * `before` or in `after` (the read rule, the same user's, is shared: it narrows both).
 */
export function eitherScopeConditions(before: Scope, after: Scope): Map<string, ScopeCondition> {
  const collections = [...new Set([...before.collections, ...after.collections])];
  return new Map(
    collections.map((c) => {
      const queries = anyOf([before.queryCondition(c), after.queryCondition(c)]);
      const reads = anyOf([before.readCondition(c), after.readCondition(c)]);
      return [c, allOf([queries, reads])];
    }),
  );
}

/** How many queries a session may hold. */
export const MAX_QUERIES = 100;

/**
 * The scope a client may still hold documents of after its queries change from `current`,
 * when an earlier change (from `pending`) may not have reached it yet: both, without
 * repeats; past MAX_QUERIES, every document of their collections (a wider former scope only
 * removes documents the client does not hold, which is harmless).
 */
export function widenFormerScope(pending: SyncQuery[] | null, current: SyncQuery[]): SyncQuery[] {
  const all = [...(pending ?? []), ...current];
  const unique = [...new Map(all.map((q) => [JSON.stringify(q), q])).values()];
  if (unique.length <= MAX_QUERIES) return unique;
  return [...new Set(unique.map((q) => q.collection))].map((collection) => ({
    collection,
    filter: null,
  }));
}
