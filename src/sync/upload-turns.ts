/**
 * Uploads of one session reach the store in the order they were asked for. A client may
 * send its next upload before the previous one is acknowledged (the SDK keeps two in
 * flight), and its changesets' client versions must follow each other: were the second
 * handed to the store first, it would be refused for a gap. So each upload of a session
 * waits until the one before it was handed to the store (or failed before), then checks
 * and plans its own while that one commits.
 *
 * The order is the order of the calls to `SyncCore.uploadChanges`. Before that call, an
 * upload's resolver may read the session for its rate budget; on a store whose reads can
 * complete out of order (MongoDB's), a later upload could then come first, be refused for
 * the gap, and the SDK sends it again alone (client/src/uploader.ts): a round trip lost,
 * nothing else.
 */
export class UploadTurns {
  private readonly last = new Map<string, Promise<void>>();

  /**
   * Runs `work` once the previous upload of `session` was handed over; `work` calls
   * `handedOver` once it gave its integration to the store (ending early does too).
   */
  async run<T>(session: string, work: (handedOver: () => void) => Promise<T>): Promise<T> {
    const previous = this.last.get(session);
    let handedOver!: () => void;
    const mine = new Promise<void>((resolve) => (handedOver = resolve));
    this.last.set(session, mine);
    try {
      if (previous) await previous;
      return await work(handedOver);
    } finally {
      handedOver();
      if (this.last.get(session) === mine) this.last.delete(session);
    }
  }

  /** Sessions with an upload waiting or being prepared (for tests: it must drain to 0). */
  get size(): number {
    return this.last.size;
  }
}
