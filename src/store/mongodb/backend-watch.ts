/**
 * Notices backend writes: inserts, updates, replaces and deletes that other services make
 * directly to the plain collections (and drops and renames of them), followed with one
 * change stream on the gateway's database (https://www.mongodb.com/docs/manual/changeStreams/).
 * The documents an event names go to `ingest` (SyncCore.integrateBackendWrites), which
 * integrates only documents whose copy differs from their state, so the gateway's own
 * writes, which show up here too, never echo, and several gateways watching at once
 * integrate each write once.
 *
 * Where it got to is stored in `__sync_resume_tokens`, at most once a second and on stop, so
 * a restarted gateway resumes there (`startAfter`) and misses nothing written while it was
 * down; events after the stored token are seen again, which is harmless. With no stored
 * token (the first start), or when its place has fallen off the oplog
 * (ChangeStreamHistoryLost), a fresh stream is opened first and then every document is
 * checked once (reconcile), so nothing written before is dropped silently.
 */
import type { ChangeStream, ChangeStreamDocument, Db, Document, ResumeToken } from 'mongodb';
import type { FindCursor } from 'mongodb';
import { documentKey } from '../port.js';
import type { DocumentKey } from '../../sync/model.js';
import { isCollectionName } from '../../sync/validate.js';
import {
  BACKEND_PIPELINE,
  eventAction,
  isHistoryLost,
  type BackendAction,
} from './backend-events.js';
import { syncCollections, type SyncCollections } from './collections.js';

export type Ingest = (keys: readonly DocumentKey[]) => Promise<unknown>;

const TOKEN_ID = 'backend-writes';
const PAGE = 200;
/** An event that fails this many times in a row is reported and passed over. */
const MAX_ATTEMPTS = 5;

export class BackendWatch {
  private readonly c: SyncCollections;
  private stream: ChangeStream | null = null;
  private stopped = false;
  private running: Promise<void> | null = null;
  private lastToken: ResumeToken | null = null;
  private savedAt = 0;
  private failing = { token: '', attempts: 0 };

  constructor(
    private readonly db: Db,
    private readonly ingest: Ingest,
    private readonly onError: (error: unknown) => void = () => undefined,
    private readonly retryMs = 1000,
  ) {
    this.c = syncCollections(db);
  }

  start(): void {
    this.running ??= this.run().catch(this.onError);
  }

  /** Closes the stream, waits for the event in hand, and stores where it got to. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.stream?.close().catch(() => undefined);
    await this.running;
    await this.saveToken(true).catch(this.onError);
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.follow();
      } catch (error) {
        if (this.stopped) return;
        this.onError(error);
        await this.recover(error).catch(this.onError);
      }
    }
  }

  /** Forgets a place lost from the oplog (the next stream reconciles); else waits a moment. */
  private async recover(error: unknown): Promise<void> {
    if (!isHistoryLost(error)) return new Promise((resolve) => setTimeout(resolve, this.retryMs));
    this.lastToken = null;
    await this.c.resumeTokens.deleteOne({ _id: TOKEN_ID });
  }

  private async follow(): Promise<void> {
    const saved = await this.c.resumeTokens.findOne({ _id: TOKEN_ID });
    const stream = this.db.watch(BACKEND_PIPELINE, saved ? { startAfter: saved.token } : {});
    this.stream = stream;
    try {
      // Runs the aggregate, so the stream's place is fixed before anything is reconciled.
      const first = await stream.tryNext();
      if (!saved && !(await this.reconcileFrom(stream.resumeToken))) return;
      if (first) await this.handle(first);
      for await (const event of stream) await this.handle(event);
    } finally {
      await stream.close().catch(() => undefined);
    }
  }

  /** Checks every document, then stores the fresh stream's place; false when stopped first. */
  private async reconcileFrom(start: ResumeToken | null): Promise<boolean> {
    this.lastToken = null;
    const listed = await this.db
      .listCollections({ type: 'collection' }, { nameOnly: true })
      .toArray();
    const names = listed.map((c) => c.name).filter(isCollectionName);
    if (!(await this.checkCollections(names, {}))) return false;
    if (start !== null) {
      this.lastToken = start;
      await this.saveToken(true);
    }
    return true;
  }

  private async handle(event: ChangeStreamDocument): Promise<void> {
    try {
      await this.apply(eventAction(event));
    } catch (error) {
      if (this.stopped || !this.giveUp(event._id)) throw error;
      this.onError(new Error(`backend write event passed over after ${MAX_ATTEMPTS} attempts`));
    }
    if (this.stopped) return;
    this.lastToken = event._id;
    await this.saveToken(event.operationType === 'invalidate');
  }

  /** Counts a failure of the event; true once it has failed MAX_ATTEMPTS times in a row. */
  private giveUp(token: ResumeToken): boolean {
    const key = JSON.stringify(token);
    const attempts = this.failing.token === key ? this.failing.attempts + 1 : 1;
    this.failing = { token: key, attempts };
    return attempts >= MAX_ATTEMPTS;
  }

  private async apply(action: BackendAction): Promise<void> {
    if (action.kind === 'document') await this.ingest([action.key]);
    if (action.kind === 'collections') await this.checkCollections(action.names, undefined);
  }

  /**
   * Every copy in these collections, and every document the gateway holds of them (whose
   * copy may be gone); `states` narrows the state scan (`{}`: all of them). False when stopped.
   */
  private async checkCollections(names: string[], states: Document | undefined) {
    for (const name of names) {
      const copies = this.db
        .collection<{ _id: unknown }>(name)
        .find({}, { projection: { _id: 1 } });
      const keyOf = (d: { _id: unknown }) =>
        typeof d._id === 'string' ? { collection: name, id: d._id } : null;
      if (!(await this.pages(copies.batchSize(PAGE), keyOf))) return false;
    }
    const filter = states ?? { collection: { $in: names } };
    const held = this.c.state.find(filter, { projection: { collection: 1, id: 1 } });
    return this.pages(held.batchSize(PAGE), (s) => ({ collection: s.collection, id: s.id }));
  }

  /** Ingests the cursor's keys a page at a time; false when stopped before the end. */
  private async pages<T>(cursor: FindCursor<T>, keyOf: (doc: T) => DocumentKey | null) {
    const page = new Map<string, DocumentKey>();
    try {
      for await (const doc of cursor) {
        if (this.stopped) return false;
        const key = keyOf(doc);
        if (key) page.set(documentKey(key), key);
        if (page.size >= PAGE) {
          await this.ingest([...page.values()]);
          page.clear();
        }
      }
    } finally {
      await cursor.close();
    }
    if (page.size > 0) await this.ingest([...page.values()]);
    return !this.stopped;
  }

  private async saveToken(now: boolean): Promise<void> {
    if (this.lastToken === null || (!now && Date.now() - this.savedAt < 1000)) return;
    this.savedAt = Date.now();
    const doc = { token: this.lastToken, savedAt: new Date() };
    await this.c.resumeTokens.replaceOne({ _id: TOKEN_ID }, doc, { upsert: true });
  }
}
