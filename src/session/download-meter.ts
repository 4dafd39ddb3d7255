/**
 * Download progress of one session: bytes in its scope from a base version to the latest
 * (transferable) and to what the client acknowledged (transferred), each read forward once.
 */
import type { Scope } from '../sync/scope.js';
import { ScopeMeter, type HistorySource } from '../sync/scope-meter.js';
import { progress, type SyncProgress } from './progress.js';

export class DownloadMeter {
  private head: ScopeMeter;
  private acked: ScopeMeter;

  constructor(
    private readonly store: HistorySource,
    private readonly scope: Scope,
    base: number,
    private readonly batchSize: number,
  ) {
    this.head = new ScopeMeter(store, scope, base, batchSize);
    this.acked = new ScopeMeter(store, scope, base, batchSize);
  }

  /** Progress with the client at `ack`, toward `top` (the latest, or a fixed target). */
  async measure(ack: number, top: number): Promise<SyncProgress> {
    await this.head.advanceTo(top);
    await this.acked.advanceTo(Math.min(ack, top));
    const done = ack >= this.head.lastInScope;
    return progress('DOWNLOAD', this.acked.bytes, this.head.bytes, done);
  }

  /** Starts counting afresh from `base` (when the outstanding work is done). */
  rebase(base: number): void {
    this.head = new ScopeMeter(this.store, this.scope, base, this.batchSize);
    this.acked = new ScopeMeter(this.store, this.scope, base, this.batchSize);
  }
}
