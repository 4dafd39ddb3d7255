/**
 * The indexes of the read rules' fields on the plain collections (scope-query.ts), so that
 * a bootstrap finds one user's documents by index. A collection the rules file names gets
 * its rule's; any other the default rule's. Declared at start for the named collections
 * and those that exist, and for a collection seen later at its first narrowed read; once
 * per process each (createIndexes is a no-op for an index that exists with the same spec:
 * https://www.mongodb.com/docs/manual/reference/command/createIndexes/).
 */
import type { Db } from 'mongodb';
import type { ScopeIndex } from '../../sync/scope-condition.js';
import { META_PREFIX, type SyncCollections } from './collections.js';
import { scopeIndex } from './scope-query.js';

export class ScopeIndexes {
  private declared: readonly ScopeIndex[] = [];
  private readonly done = new Set<string>();

  constructor(private readonly cols: SyncCollections) {}

  /** Takes the rules' fields and indexes the collections named or existing now. */
  async declare(indexes: readonly ScopeIndex[], db: Db): Promise<void> {
    this.declared = indexes;
    this.done.clear();
    // https://www.mongodb.com/docs/manual/reference/command/listCollections/
    const existing = await db.listCollections({}, { nameOnly: true }).toArray();
    const names = existing
      .filter((c) => (c.type ?? 'collection') === 'collection')
      .map((c) => c.name)
      .filter((n) => !n.startsWith(META_PREFIX) && !n.startsWith('system.'));
    const named = indexes.flatMap((i) => (i.collection === null ? [] : [i.collection]));
    for (const collection of new Set([...named, ...names])) await this.ensure(collection);
  }

  /** Indexes a collection's rule fields, once per process. */
  async ensure(collection: string): Promise<void> {
    if (this.done.has(collection)) return;
    const paths = this.pathsOf(collection);
    if (paths.length > 0) await this.cols.plain(collection).createIndexes(paths.map(scopeIndex));
    this.done.add(collection);
  }

  /** Top-level fields only: scope-query.ts leaves dotted paths out. */
  private pathsOf(collection: string): string[] {
    const named = this.declared.some((i) => i.collection === collection);
    const applies = (i: ScopeIndex) => i.collection === (named ? collection : null);
    const paths = this.declared.filter(applies).map((i) => i.path);
    return [...new Set(paths)].filter((p) => !p.includes('.'));
  }
}
