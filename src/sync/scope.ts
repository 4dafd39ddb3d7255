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
