/**
 * The in-memory state of a local database and its bookkeeping, synchronous and pure of I/O:
 * every mutation updates the maps for just the documents it touches and records the
 * storage operations that persist it (taken by `takeCommit`).
 *
 *   visible(doc) = server copy, with the changes of every changeset not yet settled applied
 *   pending ──acknowledge──▶ awaiting ──download reaches its server version──▶ settled (gone)
 */
import type { ChangeInput } from './gql/graphql.js';
import {
  emptyMeta,
  type Doc,
  type PendingChangeset,
  type StorageCommit,
  type StoredChangeset,
  type StoredDoc,
  type StoredState,
  type SyncMeta,
} from './storage.js';

export const docKey = (collection: string, id: string): string => `${collection}/${id}`;

function splitKey(key: string): [collection: string, id: string] {
  const slash = key.indexOf('/');
  return [key.slice(0, slash), key.slice(slash + 1)];
}

/** One change applied to a document (or to its absence), as the app sees it at once. */
export function applyLocal(doc: Doc | undefined, change: ChangeInput): Doc | undefined {
  if (change.op === 'DELETE') return undefined;
  if (change.op === 'INSERT')
    return { ...(change.document as Record<string, unknown>), _id: String(change.id) };
  if (!doc) return undefined;
  const next: Doc = { ...doc, ...(change.set as Record<string, unknown> | undefined) };
  for (const field of change.unset ?? []) delete next[field];
  return next;
}

const keyOf = (c: ChangeInput) => docKey(c.collection, String(c.id));

interface BatchLike {
  fromServerVersion: number;
  toServerVersion: number;
  bootstrapUntil: number | null;
  queriesVersion: number;
  changes: { collection: string; id: string; op: 'UPSERT' | 'REMOVE'; document: unknown }[];
}

/**
 * What a commit must store: per document key and per changeset version, the last thing done
 * to it (null: deleted), so a put then a delete of one key in one commit is a delete.
 */
export class Ops {
  readonly docs = new Map<string, StoredDoc | null>();
  readonly changesets = new Map<number, StoredChangeset | null>();

  /** `later` applied after these. */
  merge(later: Ops): Ops {
    for (const [key, doc] of later.docs) this.docs.set(key, doc);
    for (const [version, cs] of later.changesets) this.changesets.set(version, cs);
    return this;
  }

  /** The client versions of the changesets these operations store. */
  storedVersions(): number[] {
    return [...this.changesets].filter(([, cs]) => cs !== null).map(([version]) => version);
  }

  toCommit(): Omit<StorageCommit, 'meta'> {
    const put = <K, V>(m: Map<K, V | null>) => [...m].filter((e): e is [K, V] => e[1] !== null);
    const gone = <K, V>(m: Map<K, V | null>) =>
      [...m].filter(([, v]) => v === null).map(([k]) => k);
    return {
      putDocs: put(this.docs),
      deleteDocs: gone(this.docs),
      putChangesets: put(this.changesets).map(([, cs]) => cs),
      deleteChangesets: gone(this.changesets),
    };
  }
}

export class LocalState {
  private readonly server = new Map<string, StoredDoc>();
  /** Acknowledged changesets, shown until the download reaches their server version. */
  private awaiting: StoredChangeset[] = [];
  /** Changesets not yet acknowledged, in client-version order. */
  pending: StoredChangeset[] = [];
  private readonly changesOf = new Map<string, { cs: StoredChangeset; change: ChangeInput }[]>();
  private readonly view = new Map<string, Map<string, Doc>>();
  private readonly sizes = new WeakMap<PendingChangeset, number>();
  private ops = new Ops();

  private constructor(readonly meta: SyncMeta) {}

  static from(stored: StoredState | null, clientId: string): LocalState {
    const state = new LocalState(stored?.meta ?? emptyMeta(clientId));
    for (const [key, doc] of stored?.docs ?? []) {
      state.server.set(key, doc);
      state.refresh(key);
    }
    for (const cs of stored?.changesets ?? []) {
      (cs.acknowledgedAt === null ? state.pending : state.awaiting).push(cs);
      state.index(cs).forEach((key) => state.refresh(key));
    }
    return state;
  }

  /** The storage operations recorded since the last call. */
  takeCommit(): Ops {
    const ops = this.ops;
    this.ops = new Ops();
    return ops;
  }

  visible(collection: string, id: string): Doc | undefined {
    return this.view.get(collection)?.get(id);
  }

  all(collection: string): Doc[] {
    return [...(this.view.get(collection)?.values() ?? [])];
  }

  /** The visible documents now, as a copy later changes do not reach. */
  copyView(): Map<string, Map<string, Doc>> {
    return new Map([...this.view].map(([collection, docs]) => [collection, new Map(docs)]));
  }

  serverDocs(): Record<string, Doc> {
    return Object.fromEntries([...this.server].map(([key, d]) => [key, d.doc]));
  }

  bytesOf(cs: PendingChangeset): number {
    let bytes = this.sizes.get(cs);
    if (bytes === undefined) this.sizes.set(cs, (bytes = JSON.stringify(cs.changes).length));
    return bytes;
  }

  addChangeset(cs: StoredChangeset): string[] {
    this.pending.push(cs);
    this.ops.changesets.set(cs.clientVersion, cs);
    const keys: string[] = [];
    for (const change of cs.changes) {
      const key = keyOf(change);
      const list = this.changesOf.get(key) ?? [];
      list.push({ cs, change });
      this.changesOf.set(key, list);
      const [collection, id] = splitKey(key);
      this.show(collection, id, applyLocal(this.visible(collection, id), change));
      keys.push(key);
    }
    return keys;
  }

  /** Moves the changesets up to `lastIntegrated` to `awaiting`; returns them. */
  acknowledge(lastIntegrated: number, serverVersion: number): StoredChangeset[] {
    const acked: StoredChangeset[] = [];
    while (this.pending[0] && this.pending[0].clientVersion <= lastIntegrated) {
      const cs = this.pending.shift()!;
      cs.acknowledgedAt = serverVersion;
      this.awaiting.push(cs);
      this.ops.changesets.set(cs.clientVersion, cs);
      acked.push(cs);
    }
    return acked;
  }

  /** Rolls back the writes of `changesets` to documents in `refused`; returns the keys. */
  dropWrites(changesets: StoredChangeset[], refused: ReadonlySet<string>): string[] {
    const keys = new Set<string>();
    for (const cs of changesets) {
      const dropped = new Set(cs.changes.map(keyOf).filter((key) => refused.has(key)));
      if (dropped.size === 0) continue;
      for (const key of dropped) this.removeEntries(key, cs);
      cs.changes = cs.changes.filter((c) => !dropped.has(keyOf(c)));
      this.sizes.delete(cs);
      this.ops.changesets.set(cs.clientVersion, cs);
      dropped.forEach((key) => keys.add(key));
    }
    keys.forEach((key) => this.refresh(key));
    return [...keys];
  }

  /** Empties a changeset (its version is still uploaded); returns the keys it touched. */
  empty(cs: StoredChangeset): string[] {
    const keys = this.unindex(cs);
    cs.changes = [];
    this.sizes.delete(cs);
    this.ops.changesets.set(cs.clientVersion, cs);
    keys.forEach((key) => this.refresh(key));
    return keys;
  }

  /** The highest server version an acknowledged changeset still waits for the download to reach. */
  awaitingVersion(): number {
    return this.awaiting.reduce((max, cs) => Math.max(max, cs.acknowledgedAt ?? 0), 0);
  }

  /** Drops the acknowledged changesets the download has caught up with; returns the keys. */
  settle(): string[] {
    if (this.meta.bootstrapUntil !== null) return [];
    const done = this.awaiting.filter((cs) => cs.acknowledgedAt! <= this.meta.serverVersion);
    if (done.length === 0) return [];
    this.awaiting = this.awaiting.filter((cs) => cs.acknowledgedAt! > this.meta.serverVersion);
    const keys = new Set<string>();
    for (const cs of done) {
      this.unindex(cs).forEach((k) => keys.add(k));
      this.ops.changesets.set(cs.clientVersion, null);
    }
    keys.forEach((key) => this.refresh(key));
    return [...keys];
  }

  /** Applies a download batch; returns the keys of the documents it changed. */
  applyBatch(batch: BatchLike): string[] {
    const { meta } = this;
    const starts = batch.bootstrapUntil !== null && batch.fromServerVersion === 0;
    if (starts)
      Object.assign(meta, {
        generation: meta.generation + 1,
        bootstrapUntil: batch.bootstrapUntil,
      });
    const keys = batch.changes.map((c) => this.applyDownloaded(c));
    meta.serverVersion = starts
      ? batch.toServerVersion
      : Math.max(meta.serverVersion, batch.toServerVersion);
    meta.queriesVersion = batch.queriesVersion;
    if (batch.bootstrapUntil !== null && batch.toServerVersion >= batch.bootstrapUntil) {
      keys.push(...this.completeBootstrap());
    }
    keys.forEach((key) => this.refresh(key));
    return keys;
  }

  private applyDownloaded(c: BatchLike['changes'][number]): string {
    const key = docKey(c.collection, String(c.id));
    if (c.op === 'UPSERT') {
      const stored: StoredDoc = { doc: c.document as Doc, gen: this.meta.generation };
      this.server.set(key, stored);
      this.ops.docs.set(key, stored);
    } else {
      this.server.delete(key);
      this.ops.docs.set(key, null);
    }
    return key;
  }

  /** Removes the documents the completed bootstrap did not bring. */
  private completeBootstrap(): string[] {
    const gone: string[] = [];
    for (const [key, stored] of this.server) {
      if (stored.gen < this.meta.generation) gone.push(key);
    }
    for (const key of gone) {
      this.server.delete(key);
      this.ops.docs.set(key, null);
    }
    Object.assign(this.meta, { bootstrapUntil: null, bootstrapped: true });
    return gone;
  }

  /** Discards the changesets not yet acknowledged; returns the keys they touched. */
  dropPending(): string[] {
    const keys = new Set<string>();
    for (const cs of this.pending) {
      this.unindex(cs).forEach((k) => keys.add(k));
      this.ops.changesets.set(cs.clientVersion, null);
    }
    this.pending = [];
    keys.forEach((key) => this.refresh(key));
    return [...keys];
  }

  /** Stamps the changesets not yet acknowledged anew, in order. */
  restamp(next: () => string): string[] {
    for (const cs of this.pending) {
      cs.timestamp = next();
      this.ops.changesets.set(cs.clientVersion, cs);
    }
    return [];
  }

  /** See LocalDatabase.alignWith; returns whether anything was renumbered. */
  align(serverLast: number): boolean {
    const { meta } = this;
    const follow =
      meta.clientVersion < serverLast
        ? this.pending
        : this.pending.filter((cs) => cs.clientVersion > serverLast);
    const moved = follow.filter((cs, i) => cs.clientVersion !== serverLast + 1 + i);
    // All old numbers go first: a renumbered changeset may take the number of another.
    for (const cs of moved) this.ops.changesets.set(cs.clientVersion, null);
    follow.forEach((cs, i) => (cs.clientVersion = serverLast + 1 + i));
    for (const cs of moved) this.ops.changesets.set(cs.clientVersion, cs);
    let changed = moved.length > 0;
    const last = Math.max(serverLast, this.pending.at(-1)?.clientVersion ?? 0);
    if (meta.clientVersion !== last) [meta.clientVersion, changed] = [last, true];
    return changed;
  }

  private index(cs: StoredChangeset): string[] {
    const keys = cs.changes.map(keyOf);
    cs.changes.forEach((change, i) => {
      const list = this.changesOf.get(keys[i]!) ?? [];
      list.push({ cs, change });
      this.changesOf.set(keys[i]!, list);
    });
    return keys;
  }

  private unindex(cs: StoredChangeset): string[] {
    const keys = [...new Set(cs.changes.map(keyOf))];
    for (const key of keys) this.removeEntries(key, cs);
    return keys;
  }

  private removeEntries(key: string, cs: StoredChangeset): void {
    const rest = (this.changesOf.get(key) ?? []).filter((e) => e.cs !== cs);
    if (rest.length > 0) this.changesOf.set(key, rest);
    else this.changesOf.delete(key);
  }

  /** Recomputes one visible document from its server copy and its unsettled changes. */
  private refresh(key: string): void {
    let doc = this.server.get(key)?.doc;
    for (const { change } of this.changesOf.get(key) ?? []) doc = applyLocal(doc, change);
    const [collection, id] = splitKey(key);
    this.show(collection, id, doc);
  }

  private show(collection: string, id: string, doc: Doc | undefined): void {
    let docs = this.view.get(collection);
    if (doc) {
      if (!docs) this.view.set(collection, (docs = new Map()));
      docs.set(id, doc);
    } else docs?.delete(id);
  }
}
