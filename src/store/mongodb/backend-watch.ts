/**
 * Notices backend writes: inserts, updates, replaces and deletes that other services make
 * directly to the plain collections (and drops and renames of them), followed with one
 * change stream on the gateway's database (https://www.mongodb.com/docs/manual/changeStreams/).
 * The documents events name go to `ingest` (SyncCore.integrateBackendWrites), a batch of
 * the events already buffered at a time; it integrates only documents whose copy differs
 * from their state, so the gateway's own writes, which show up here too, never echo, and
 * several gateways watching at once integrate each write once.
 *
 * Where it got to is stored in `__sync_resume_tokens` (after events at most once a second,
 * while idle every 30 s, and on stop), so a restarted gateway resumes there (`startAfter`)
 * and misses nothing written while it was down; events after the stored token are seen
 * again, which is harmless. With no stored token (the first start), or when its place has
 * fallen off the oplog (ChangeStreamHistoryLost), a fresh stream is opened first and then
 * every document is checked once (reconcile), so nothing written before is dropped.
 *
 * A document that cannot be integrated because of what it holds (too large for the
 * history, say) is retried, then reported through `onError` and passed over, so one bad
 * document never stalls the others; any other failure reopens the stream from the stored
 * place after a pause, so nothing is passed over while the database is in trouble.
 */
import type { ChangeStream, ChangeStreamDocument, Db, FindCursor, ResumeToken } from 'mongodb';
import { documentKey } from '../port.js';
import type { DocumentKey } from '../../sync/model.js';
import { isCollectionName } from '../../sync/validate.js';
import { BACKEND_PIPELINE, eventAction, isDocumentFault, isHistoryLost } from './backend-events.js';
import { syncCollections, type SyncCollections } from './collections.js';

export type Ingest = (keys: readonly DocumentKey[]) => Promise<unknown>;

const TOKEN_ID = 'backend-writes';
const PAGE = 200;
const ATTEMPTS = 3;
const SAVE_AFTER_EVENTS_MS = 1000;
const SAVE_WHILE_IDLE_MS = 30_000;

/** A document passed over after failing to integrate while the database answered. */
export class BackendWriteSkipped extends Error {
  override name = 'BackendWriteSkipped';
  constructor(
    readonly key: DocumentKey,
    override readonly cause: unknown,
  ) {
    super(`backend write to ${key.collection}/${key.id} passed over: ${String(cause)}`);
  }
}

export class BackendWatch {
  private readonly c: SyncCollections;
  private stream: ChangeStream | null = null;
  private stopped = false;
  private running: Promise<void> | null = null;
  private place: { token: ResumeToken | null; savedToken: ResumeToken | null; at: number } = {
    token: null,
    savedToken: null,
    at: 0,
  };

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

  /** Closes the stream, waits for the batch in hand, and stores where it got to. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.stream?.close().catch(() => undefined);
    await this.running;
    await this.savePlace(0).catch(this.onError);
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
    if (!isHistoryLost(error)) return this.pause();
    this.place = { token: null, savedToken: null, at: 0 };
    await this.c.resumeTokens.deleteOne({ _id: TOKEN_ID });
  }

  private pause(): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, this.retryMs));
  }

  private async follow(): Promise<void> {
    const saved = await this.c.resumeTokens.findOne({ _id: TOKEN_ID });
    const stream = this.db.watch(BACKEND_PIPELINE, saved ? { startAfter: saved.token } : {});
    this.stream = stream;
    try {
      if (this.stopped) return;
      // Runs the aggregate, so the stream's place is fixed before anything is reconciled.
      let event = await stream.tryNext();
      if (!saved && !(await this.reconcile(stream.resumeToken))) return;
      for (;;) {
        if (event && (await this.handleBatch(stream, event)) === 'invalidated') return;
        if (!event) await this.idle(stream);
        if (this.stopped) return;
        if (stream.closed) return this.ended(stream);
        event = await stream.tryNext();
      }
    } finally {
      await stream.close().catch(() => undefined);
    }
  }

  /** The server ended the stream without an event saying why: start after where it ended. */
  private async ended(stream: ChangeStream): Promise<void> {
    this.place.token = stream.resumeToken ?? this.place.token;
    await this.savePlace(0);
    await this.pause();
  }

  /** No event within the server's wait: keep the stream's place fresh now and then. */
  private async idle(stream: ChangeStream): Promise<void> {
    this.place.token = stream.resumeToken ?? this.place.token;
    await this.savePlace(SAVE_WHILE_IDLE_MS);
  }

  /** Checks every document, then stores the fresh stream's place; false when stopped first. */
  private async reconcile(start: ResumeToken | null): Promise<boolean> {
    this.place = { token: null, savedToken: null, at: 0 };
    const listed = await this.db
      .listCollections({ type: 'collection' }, { nameOnly: true })
      .toArray();
    const names = listed.map((c) => c.name).filter(isCollectionName);
    if (!(await this.checkCollections(names, true))) return false;
    this.place.token = start;
    await this.savePlace(0);
    return true;
  }

  /** `first` and the events buffered behind it (up to a page), then stores the place. */
  private async handleBatch(stream: ChangeStream, first: ChangeStreamDocument) {
    const events = [first];
    while (events.length < PAGE && stream.bufferedCount() > 0) events.push(await stream.next());
    const keys = new Map<string, DocumentKey>();
    let invalidated = false;
    for (const action of events.map(eventAction)) {
      if (action.kind === 'document') keys.set(documentKey(action.key), action.key);
      if (action.kind === 'collections' && !(await this.checkCollections(action.names, false)))
        return 'stopped';
      invalidated ||= action.kind === 'invalidate';
    }
    await this.ingestPage([...keys.values()]);
    if (this.stopped) return 'stopped';
    this.place.token = events.at(-1)!._id;
    await this.savePlace(invalidated ? 0 : SAVE_AFTER_EVENTS_MS);
    return invalidated ? 'invalidated' : 'handled';
  }

  /**
   * Every copy in these collections, and every document the gateway holds of them (whose
   * copy may be gone); `allStates`: every document it holds at all. False when stopped.
   */
  private async checkCollections(names: string[], allStates: boolean): Promise<boolean> {
    for (const name of names) {
      const copies = this.db
        .collection<{ _id: unknown }>(name)
        .find({}, { projection: { _id: 1 }, batchSize: PAGE });
      const keyOf = (d: { _id: unknown }) =>
        typeof d._id === 'string' ? { collection: name, id: d._id } : null;
      if (!(await this.pages(copies, keyOf))) return false;
    }
    const filter = allStates ? {} : { collection: { $in: names } };
    const held = this.c.state.find(filter, {
      projection: { collection: 1, id: 1 },
      batchSize: PAGE,
    });
    return this.pages(held, (s) => ({ collection: s.collection, id: s.id }));
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
          await this.ingestPage([...page.values()]);
          page.clear();
        }
      }
    } finally {
      await cursor.close();
    }
    await this.ingestPage([...page.values()]);
    return !this.stopped;
  }

  /**
   * Ingests a page; when that fails because of some document in it, each document on its
   * own, a few times, passing over (and reporting) those that still fail. Any other failure
   * (the database unreachable, overloaded, out of space) is thrown: the stream reopens from
   * its stored place later, and nothing is passed over.
   */
  private async ingestPage(keys: DocumentKey[]): Promise<void> {
    if (keys.length === 0) return;
    try {
      return void (await this.ingest(keys));
    } catch (error) {
      if (!isDocumentFault(error)) throw error;
    }
    for (const key of keys) await this.ingestOne(key);
  }

  private async ingestOne(key: DocumentKey): Promise<void> {
    for (let attempt = 1; !this.stopped; attempt++) {
      try {
        return void (await this.ingest([key]));
      } catch (error) {
        if (!isDocumentFault(error)) throw error;
        if (attempt >= ATTEMPTS) return this.onError(new BackendWriteSkipped(key, error));
        await this.pause();
      }
    }
  }

  /** Stores the place if it moved and `minIntervalMs` passed since the last store. */
  private async savePlace(minIntervalMs: number): Promise<void> {
    const { token, savedToken, at } = this.place;
    if (token === null || token === savedToken || Date.now() - at < minIntervalMs) return;
    this.place = { token, savedToken: token, at: Date.now() };
    const doc = { token, savedAt: new Date() };
    await this.c.resumeTokens.replaceOne({ _id: TOKEN_ID }, doc, { upsert: true });
  }
}
