/**
 * A client's local copy: documents as the gateway sent them, plus the client's own
 * changesets not yet acknowledged, applied on top. Writes apply at once, offline or not,
 * and wait in order for the sync session to upload them.
 */
import { HybridLogicalClock } from './hlc.js';
import type { ChangeInput } from './gql/graphql.js';
import {
  MemoryStorage,
  type DatabaseState,
  type Doc,
  type PendingChangeset,
  type Storage,
} from './storage.js';

export type { Doc };

/** What `write(fn)` gives `fn`: the changes of one changeset. */
export interface WriteTransaction {
  insert(collection: string, doc: Doc): void;
  update(collection: string, id: string, set: Record<string, unknown>, unset?: string[]): void;
  delete(collection: string, id: string): void;
}

export type ChangeListener = (keys: string[]) => void;

export const docKey = (collection: string, id: string): string => `${collection}/${id}`;

/** One change applied to a document (or to its absence). */
export function applyLocal(doc: Doc | undefined, change: ChangeInput): Doc | undefined {
  if (change.op === 'DELETE') return undefined;
  if (change.op === 'INSERT')
    return { ...(change.document as Record<string, unknown>), _id: String(change.id) };
  if (!doc) return undefined;
  const next: Doc = { ...doc, ...(change.set as Record<string, unknown> | undefined) };
  for (const field of change.unset ?? []) delete next[field];
  return next;
}

export class LocalDatabase {
  private readonly listeners = new Set<ChangeListener>();
  private readonly hlc: HybridLogicalClock;
  private view = new Map<string, Doc>();

  private constructor(
    private state: DatabaseState,
    private readonly storage: Storage,
    now: () => number,
  ) {
    this.hlc = new HybridLogicalClock(now);
    if (state.lastTimestamp) this.hlc.observe(state.lastTimestamp);
    this.rebuild();
  }

  /** Opens the database kept in `storage` (in memory by default), creating it for `clientId`. */
  static async open(options: {
    clientId: string;
    storage?: Storage;
    now?: () => number;
  }): Promise<LocalDatabase> {
    const storage = options.storage ?? new MemoryStorage();
    const state = (await storage.load()) ?? emptyState(options.clientId);
    if (state.clientId !== options.clientId) {
      throw new Error(`storage belongs to client ${state.clientId}, not ${options.clientId}`);
    }
    return new LocalDatabase(state, storage, options.now ?? Date.now);
  }

  get clientId(): string {
    return this.state.clientId;
  }

  /** Reads one document, with the client's unsynced changes applied. */
  get(collection: string, id: string): Doc | undefined {
    return this.view.get(docKey(collection, id));
  }

  /** Every document of a collection. */
  all(collection: string): Doc[] {
    const prefix = `${collection}/`;
    return [...this.view].filter(([key]) => key.startsWith(prefix)).map(([, doc]) => doc);
  }

  /** Calls `listener` with the keys of changed documents after every change; returns the undo. */
  onChange(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Runs `fn` as one changeset: applied locally at once, uploaded when the session can. */
  async write(fn: (tx: WriteTransaction) => void): Promise<PendingChangeset | null> {
    const changes: ChangeInput[] = [];
    fn({
      insert: (collection, doc) =>
        changes.push({ collection, id: doc._id, op: 'INSERT', document: doc }),
      update: (collection, id, set, unset) =>
        changes.push({ collection, id, op: 'UPDATE', set, unset }),
      delete: (collection, id) => changes.push({ collection, id, op: 'DELETE' }),
    });
    if (changes.length === 0) return null;
    const changeset = {
      clientVersion: this.state.clientVersion + 1,
      timestamp: this.hlc.next(),
      changes,
    };
    this.state.clientVersion = changeset.clientVersion;
    this.state.lastTimestamp = changeset.timestamp;
    this.state.pending.push(changeset);
    await this.commit(changes.map((c) => docKey(c.collection, String(c.id))));
    return changeset;
  }

  // ---- used by the sync session ----

  get snapshot(): Readonly<DatabaseState> {
    return this.state;
  }

  /**
   * Drops the changesets the gateway acknowledged. Until the download stream brings them
   * back (as the gateway merged them), they stay applied, so the view does not flicker.
   */
  async acknowledgeUpload(lastIntegrated: number, serverVersion: number): Promise<void> {
    const acked = this.state.pending.filter((cs) => cs.clientVersion <= lastIntegrated);
    if (acked.length === 0) return;
    this.state.pending = this.state.pending.filter((cs) => cs.clientVersion > lastIntegrated);
    if (serverVersion > this.state.serverVersion) {
      for (const c of acked.flatMap((cs) => cs.changes)) this.applyToServerDocs(c);
    }
    await this.commit([]);
  }

  private applyToServerDocs(change: ChangeInput): void {
    const key = docKey(change.collection, String(change.id));
    const next = applyLocal(this.state.serverDocs[key], change);
    if (next) this.state.serverDocs[key] = next;
    else delete this.state.serverDocs[key];
  }

  /** Applies a download batch from the gateway and records its version. */
  async applyDownload(
    changes: { collection: string; id: string; op: string; document: unknown }[],
    toVersion: number,
  ): Promise<void> {
    for (const c of changes) {
      const key = docKey(c.collection, c.id);
      if (c.op === 'REMOVE') delete this.state.serverDocs[key];
      else this.state.serverDocs[key] = c.document as Doc;
    }
    this.state.serverVersion = Math.max(this.state.serverVersion, toVersion);
    await this.commit(changes.map((c) => docKey(c.collection, c.id)));
  }

  /** Client reset: forgets the server's documents, keeps the unsynced changesets. */
  async resetServerState(): Promise<void> {
    this.state.serverDocs = {};
    this.state.serverVersion = 0;
    await this.commit([...this.view.keys()]);
  }

  private async commit(keys: string[]): Promise<void> {
    this.rebuild();
    await this.storage.save(this.state);
    for (const listener of this.listeners) listener(keys);
  }

  private rebuild(): void {
    const view = new Map<string, Doc>(Object.entries(this.state.serverDocs));
    for (const cs of this.state.pending) {
      for (const c of cs.changes) {
        const key = docKey(c.collection, String(c.id));
        const next = applyLocal(view.get(key), c);
        if (next) view.set(key, next);
        else view.delete(key);
      }
    }
    this.view = view;
  }
}

function emptyState(clientId: string): DatabaseState {
  return {
    clientId,
    serverDocs: {},
    pending: [],
    clientVersion: 0,
    serverVersion: 0,
    lastTimestamp: null,
  };
}
