/**
 * Signals through MongoDB: publishing inserts into `__sync_signals` (expired by a TTL
 * index after a minute), and every gateway follows the inserts with a change stream.
 *
 * The driver resumes the stream by itself after resumable errors (elections, network),
 * from the resume token of the last event it saw. A stream that cannot resume, such as
 * one whose place fell off the oplog (ChangeStreamHistoryLost, code 286), emits `error`
 * and closes: the bus then opens a fresh stream and announces `lost`, upon which the
 * gateway re-derives what signals would have told it from the store (latest version,
 * every session), so no change is silently dropped: signals are hints, the store is truth.
 */
import type { ChangeStream, ChangeStreamInsertDocument, Collection, Db } from 'mongodb';
import { SIGNALS_COLLECTION } from '../store/mongodb/collections.js';
import type { ClusterSignal, Envelope, SignalBus } from './signals.js';

interface SignalDoc {
  origin: string;
  at: Date;
  signal: ClusterSignal;
}

const KEEP_SECONDS = 60;

export class MongoSignals implements SignalBus {
  private readonly handlers = new Set<(e: Envelope) => void>();
  private readonly signals: Collection<SignalDoc>;
  private stream: ChangeStream<SignalDoc, ChangeStreamInsertDocument<SignalDoc>> | null = null;
  private stopped = false;

  constructor(
    db: Db,
    readonly gatewayId: string,
    private readonly onError: (error: unknown) => void = () => undefined,
  ) {
    this.signals = db.collection<SignalDoc>(SIGNALS_COLLECTION);
  }

  publish(signal: ClusterSignal): void {
    if (this.stopped) return; // sockets closing during shutdown still report their state
    // A lost signal only delays other gateways until they re-read the store; w:1 is enough.
    this.signals
      .insertOne({ origin: this.gatewayId, at: new Date(), signal }, { writeConcern: { w: 1 } })
      .catch(this.onError);
  }

  subscribe(handler: (e: Envelope) => void): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  async start(): Promise<void> {
    // https://www.mongodb.com/docs/manual/core/index-ttl/
    await this.signals.createIndex({ at: 1 }, { name: 'at_ttl', expireAfterSeconds: KEEP_SECONDS });
    this.open();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.stream?.close();
    this.stream = null;
  }

  /** Follows inserts from now on (https://www.mongodb.com/docs/drivers/node/current/monitoring-and-logging/change-streams/). */
  private open(): void {
    const stream = this.signals.watch<SignalDoc, ChangeStreamInsertDocument<SignalDoc>>([
      { $match: { operationType: 'insert' } },
    ]);
    stream.on('change', (event) => this.deliver(event.fullDocument));
    stream.on('error', (error) => void this.reopen(stream, error));
    this.stream = stream;
  }

  private async reopen(
    failed: ChangeStream<SignalDoc, ChangeStreamInsertDocument<SignalDoc>>,
    error: unknown,
  ) {
    this.onError(error);
    await failed.close().catch(() => undefined);
    if (this.stopped) return;
    this.open();
    const lost: Envelope = {
      origin: this.gatewayId,
      at: new Date().toISOString(),
      signal: { type: 'lost' },
    };
    for (const handler of this.handlers) handler(lost);
  }

  private deliver(doc: SignalDoc): void {
    if (doc.origin === this.gatewayId) return;
    const envelope = { origin: doc.origin, at: doc.at.toISOString(), signal: doc.signal };
    for (const handler of this.handlers) handler(envelope);
  }
}
