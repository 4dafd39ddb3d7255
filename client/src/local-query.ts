/**
 * Queries over the local database: MongoDB-style filters and sort (mingo, the matcher the
 * gateway uses too), and live queries that recompute when a change touches their collection
 * (a local write, a download, a rollback) and notify only when their result changed.
 */
import { Query } from 'mingo';
import type { Doc } from './storage.js';

/** A MongoDB filter, e.g. `{ make: 'Kia', n: { $gt: 3 } }`. */
export type Filter = Record<string, unknown>;

export interface QueryOptions {
  /** A MongoDB sort, e.g. `{ n: -1, _id: 1 }`. */
  sort?: Record<string, 1 | -1>;
  skip?: number;
  limit?: number;
}

/** Runs a query over documents (a filter, then sort, skip and limit). */
export function runQuery<T extends Doc>(
  docs: T[],
  filter: Filter = {},
  options: QueryOptions = {},
) {
  let cursor = new Query(filter).find<T>(docs);
  if (options.sort) cursor = cursor.sort(options.sort);
  if (options.skip) cursor = cursor.skip(options.skip);
  if (options.limit !== undefined) cursor = cursor.limit(options.limit);
  return cursor.all();
}

/** What a live query needs of its database. */
export interface QuerySource<T> {
  all(): T[];
  onChange(listener: (keys: string[]) => void): () => void;
}

/** Structural equality of JSON values (documents are JSON). */
function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const [ka, kb] = [Object.keys(a), Object.keys(b)];
  if (ka.length !== kb.length) return false;
  const [ra, rb] = [a as Record<string, unknown>, b as Record<string, unknown>];
  return ka.every((k) => Object.hasOwn(rb, k) && sameValue(ra[k], rb[k]));
}

/** The same result: a document settling to the server's equal copy is no change. */
const sameDocs = (a: readonly Doc[], b: readonly Doc[]) =>
  a.length === b.length && a.every((doc, i) => sameValue(doc, b[i]));

/**
 * A query's live result: `current` is always up to date; `subscribe` is told of every change
 * of it (shaped for React's useSyncExternalStore); also an async iterable of results.
 */
export class LiveQuery<T extends Doc> implements AsyncIterable<T[]> {
  private result: T[] | null = null;
  private readonly listeners = new Set<() => void>();
  private unlisten: (() => void) | null = null;

  constructor(
    private readonly source: QuerySource<T>,
    private readonly collection: string,
    private readonly filter: Filter = {},
    private readonly options: QueryOptions = {},
  ) {}

  /** The result now (the same array until it changes). */
  get current(): T[] {
    this.result ??= runQuery(this.source.all(), this.filter, this.options);
    return this.result;
  }

  /** Calls `listener` after every change of the result; returns the undo. */
  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    this.unlisten ??= this.source.onChange((keys) => this.changed(keys));
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size > 0) return;
      this.unlisten?.();
      [this.unlisten, this.result] = [null, null];
    };
  };

  async *[Symbol.asyncIterator](): AsyncIterator<T[]> {
    let wake: (() => void) | null = null;
    let dirty = true;
    const stop = this.subscribe(() => ((dirty = true), wake?.()));
    try {
      for (;;) {
        if (!dirty) await new Promise<void>((resolve) => (wake = resolve));
        dirty = false;
        yield this.current;
      }
    } finally {
      stop();
    }
  }

  private changed(keys: string[]): void {
    const prefix = `${this.collection}/`;
    if (!keys.some((key) => key.startsWith(prefix))) return;
    const next = runQuery(this.source.all(), this.filter, this.options);
    if (this.result && sameDocs(this.result, next)) return;
    this.result = next;
    for (const listener of [...this.listeners]) listener();
  }
}
