/** A coalescing wake-up: any number of notifications before a wait count as one. */
export class Wakeup {
  private pending = false;
  private resolve: (() => void) | null = null;

  notify = (): void => {
    this.pending = true;
    this.resolve?.();
  };

  /** Resolves at the next notification (at once if one came since the last wait), or on abort. */
  async wait(signal: AbortSignal): Promise<void> {
    if (!this.pending && !signal.aborted) {
      await new Promise<void>((resolve) => {
        const done = () => {
          signal.removeEventListener('abort', done);
          resolve();
        };
        this.resolve = done;
        signal.addEventListener('abort', done, { once: true });
      });
    }
    this.resolve = null;
    this.pending = false;
  }
}
