/**
 * Notices backend writes: inserts, updates, replaces and deletes that other services make
 * directly to the plain collections, followed with one change stream on the gateway's
 * database (https://www.mongodb.com/docs/manual/changeStreams/). Each event's document
 * key goes to `ingest` (SyncCore.integrateBackendWrites), which integrates only documents
 * whose copy differs from their state, so the gateway's own writes, which show up here
 * too, never echo, and several gateways watching at once integrate each write once.
 *
 * Where it got to is stored in `__sync_resume_tokens`, at most once a second and on stop, so
 * a restarted gateway resumes there (`startAfter`) and misses nothing written while it was
 * down; events after the stored token are seen again, which is harmless. With no stored
 * token (the first start), or when the stored one's place has fallen off the oplog
 * (ChangeStreamHistoryLost), a fresh stream starts at the current operation time and every
 * document is checked once (reconcile), so nothing written before is dropped silently.
 */
import { MongoServerError } from 'mongodb';
import type { ChangeStream, ChangeStreamDocument, Db, ResumeToken, Timestamp } from 'mongodb';
import { documentKey } from '../port.js';
import type { DocumentKey } from '../../sync/model.js';
import { isCollectionName } from '../../sync/validate.js';
import { META_PREFIX, syncCollections } from './collections.js';
import type { ResumeTokenDoc, SyncCollections } from './collections.js';

export type Ingest = (keys: readonly DocumentKey[]) => Promise<unknown>;

const TOKEN_ID = 'backend-writes';
const PAGE = 200;

/** Only document writes to collections outside the metadata prefix. */
const PIPELINE = [
  {
    $match: {
      operationType: { $in: ['insert', 'update', 'replace', 'delete'] },
      'ns.coll': { $not: { $regex: `^${META_PREFIX}` } },
    },
  },
];

/**
 * ChangeStreamHistoryLost (286), and ChangeStreamFatalError (280), which older servers raise
 * for a resume point no longer in the oplog (https://www.mongodb.com/docs/manual/reference/error-codes/).
 */
export const isHistoryLost = (error: unknown): boolean =>
  error instanceof MongoServerError && (error.code === 286 || error.code === 280);

/** The synced document an event is about, or null for a collection or _id we do not sync. */
export function eventKey(event: ChangeStreamDocument): DocumentKey | null {
  if (!('ns' in event) || !('documentKey' in event)) return null;
  const collection = event.ns.coll;
  const id: unknown = event.documentKey._id;
  if (!collection || !isCollectionName(collection) || typeof id !== 'string') return null;
  return { collection, id };
}

export class BackendWatch {
  private readonly c: SyncCollections;
  private stream: ChangeStream | null = null;
  private stopped = false;
  private running: Promise<void> | null = null;
  private lastToken: ResumeToken | null = null;
  private savedAt = 0;

  constructor(
    private readonly db: Db,
    private readonly ingest: Ingest,
    private readonly onError: (error: unknown) => void = () => undefined,
    private readonly retryMs = 1000,
  ) {
    this.c = syncCollections(db);
  }

  start(): void {
    this.running ??= this.run();
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
        if (isHistoryLost(error)) await this.c.resumeTokens.deleteOne({ _id: TOKEN_ID });
        else await new Promise((resolve) => setTimeout(resolve, this.retryMs));
      }
    }
  }

  private async follow(): Promise<void> {
    const saved = await this.c.resumeTokens.findOne({ _id: TOKEN_ID });
    const fresh = !saved?.token && !saved?.startAt;
    const startAt = fresh ? await this.operationTime() : saved.startAt;
    const stream = this.db.watch(
      PIPELINE,
      saved?.token ? { startAfter: saved.token } : { startAtOperationTime: startAt ?? undefined },
    );
    this.stream = stream;
    try {
      if (this.stopped) return;
      if (fresh) {
        await this.reconcile();
        await this.store({ token: null, startAt });
      }
      for await (const event of stream) {
        const key = eventKey(event);
        if (key) await this.ingest([key]);
        this.lastToken = event._id;
        await this.saveToken(false);
      }
    } finally {
      await stream.close().catch(() => undefined);
    }
  }

  /**
   * The operation time of a command just run: a stream starting there sees every write
   * after it (https://www.mongodb.com/docs/manual/reference/method/db.collection.watch/).
   */
  private async operationTime(): Promise<Timestamp> {
    const reply = await this.db.command({ ping: 1 });
    return reply.operationTime as Timestamp;
  }

  /** Every document: each plain copy, and each state (whose copy may have been deleted). */
  private async reconcile(): Promise<void> {
    const listed = await this.db.listCollections({}, { nameOnly: true }).toArray();
    for (const { name } of listed) {
      if (!isCollectionName(name)) continue;
      await this.pages(
        this.db.collection<{ _id: unknown }>(name).find({}, { projection: { _id: 1 } }),
        (doc) => (typeof doc._id === 'string' ? { collection: name, id: doc._id } : null),
      );
    }
    const states = this.c.state.find({}, { projection: { collection: 1, id: 1 } });
    await this.pages(states, (s) => ({ collection: s.collection, id: s.id }));
  }

  private async pages<T>(cursor: AsyncIterable<T>, keyOf: (doc: T) => DocumentKey | null) {
    const page = new Map<string, DocumentKey>();
    for await (const doc of cursor) {
      const key = keyOf(doc);
      if (key) page.set(documentKey(key), key);
      if (page.size >= PAGE) {
        await this.ingest([...page.values()]);
        page.clear();
      }
      if (this.stopped) return;
    }
    if (page.size > 0) await this.ingest([...page.values()]);
  }

  private async saveToken(now: boolean): Promise<void> {
    if (this.lastToken === null || (!now && Date.now() - this.savedAt < 1000)) return;
    this.savedAt = Date.now();
    await this.store({ token: this.lastToken, startAt: null });
  }

  private async store(place: Pick<ResumeTokenDoc, 'token' | 'startAt'>): Promise<void> {
    const doc = { ...place, savedAt: new Date() };
    await this.c.resumeTokens.replaceOne({ _id: TOKEN_ID }, doc, { upsert: true });
  }
}
