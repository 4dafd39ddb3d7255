/** A session's download scope: documents matching one of its queries that the user may read. */
import type { JsonObject, SyncQuery } from './model.js';
import type { UserPermissions } from './permissions.js';
import { compileFilter, type Matcher } from './query-match.js';

export class Scope {
  private readonly byCollection = new Map<string, Matcher[]>();

  constructor(
    queries: readonly SyncQuery[],
    private readonly perms: UserPermissions,
  ) {
    for (const q of queries) {
      const list = this.byCollection.get(q.collection) ?? [];
      list.push(compileFilter(q.filter));
      this.byCollection.set(q.collection, list);
    }
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
