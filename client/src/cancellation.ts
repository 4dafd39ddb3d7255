/** Cancels waits: `cancel()` fails every wait holding the token with CancelledError. */
import { CancelledError } from './errors.js';

export class CancellationToken {
  private cancelledFlag = false;
  private readonly listeners = new Set<() => void>();

  get isCancelled(): boolean {
    return this.cancelledFlag;
  }

  cancel(): void {
    if (this.cancelledFlag) return;
    this.cancelledFlag = true;
    for (const listener of [...this.listeners]) listener();
    this.listeners.clear();
  }

  /** Calls `listener` on cancel (at once if already cancelled); returns the undo. */
  onCancel(listener: () => void): () => void {
    if (this.cancelledFlag) {
      listener();
      return () => undefined;
    }
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Races `work` against the token: rejects with CancelledError when cancelled first. */
  static async race<T>(
    token: CancellationToken | undefined,
    work: (onCancel: (fn: () => void) => void) => Promise<T>,
  ): Promise<T> {
    if (!token) return work(() => undefined);
    const undos: (() => void)[] = [];
    const cancelled = new Promise<never>((_, reject) => {
      undos.push(token.onCancel(() => reject(new CancelledError())));
    });
    cancelled.catch(() => undefined);
    try {
      return await Promise.race([work((fn) => undos.push(token.onCancel(fn))), cancelled]);
    } finally {
      for (const undo of undos) undo();
    }
  }
}
