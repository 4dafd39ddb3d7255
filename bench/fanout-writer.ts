/**
 * The fan-out scenario's writer: one socket, one session, one-change changesets on a fixed
 * schedule (not waiting for acks, so the rate holds when the server falls behind). Each
 * document carries its upload number `n` and its send time on the monotonic clock.
 */
import { monoMs } from './mono-clock.js';
import { openSession } from './fanout-socket.js';
import { LeanSocket } from './lean-socket.js';
import { SHARED_COLLECTION } from './shared-rules.js';
import { hlc } from './ws-client.js';

const UPLOAD = `mutation ($sessionId: ID!, $changesets: [ChangesetInput!]!) {
  uploadChanges(sessionId: $sessionId, changesets: $changesets) {
    lastIntegratedClientVersion serverVersion compensatingWrites { id reason } } }`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

export class Writer {
  private version = 0;
  private readonly pending: Promise<void>[] = [];
  readonly errors: string[] = [];

  private constructor(
    private readonly ws: LeanSocket,
    private readonly userId: string,
    private readonly sessionId: string,
  ) {}

  static async open(wsUrl: string, token: string, userId: string): Promise<Writer> {
    const ws = await LeanSocket.open(wsUrl, token);
    return new Writer(ws, userId, await openSession(ws, `writer-${userId}`));
  }

  /** Uploads `count` changes, one every `intervalMs` from `startAt` (monotonic ms). */
  async run(count: number, intervalMs: number, startAt = monoMs()): Promise<number> {
    for (let i = 0; i < count; i++) {
      await sleep(startAt + i * intervalMs - monoMs());
      this.pending.push(this.upload());
    }
    return startAt + count * intervalMs;
  }

  /** Waits for every upload's ack; returns the failures. */
  async settled(): Promise<string[]> {
    await Promise.all(this.pending);
    return this.errors;
  }

  dispose(): Promise<void> {
    return this.ws.close();
  }

  private async upload(): Promise<void> {
    const n = ++this.version;
    const document = { ownerId: this.userId, n, sentAt: monoMs() };
    const change = { collection: SHARED_COLLECTION, id: `fan-${n}`, op: 'INSERT', document };
    const changesets = [{ clientVersion: n, timestamp: hlc(), changes: [change] }];
    try {
      const data = await this.ws.request(UPLOAD, { sessionId: this.sessionId, changesets });
      const ack = data.uploadChanges as { compensatingWrites: { reason: string }[] };
      if (ack.compensatingWrites.length) throw new Error(ack.compensatingWrites[0]!.reason);
    } catch (error) {
      this.errors.push(`upload ${n}: ${(error as Error).message}`);
    }
  }
}
