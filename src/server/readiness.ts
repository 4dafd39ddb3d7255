/**
 * Whether the gateway should get traffic (`GET /ready`):
 * - `shutdown`: not shutting down (once it is, nothing else is checked);
 * - `store`: the store answers `latestVersion()` within `timeoutMs` (1 s);
 * - `signals`, with several gateways (MULTI_GATEWAY on SQLite, or MongoDB): the SignalBus
 *   port has no liveness call, so the check is by effect: when the store's latest version
 *   is ahead of what this gateway's change feed knows (another gateway committed it), the
 *   signal of it must arrive within `signalGraceMs` (10 s; signals take milliseconds). A
 *   gateway deaf to the others fails it once another gateway commits; with no commits
 *   anywhere there is nothing to miss, and nothing to detect.
 * Concurrent probes share one store call.
 */
import type { Clock } from '../clock.js';
import type { SyncStore } from '../store/port.js';
import { withTimeout } from './with-timeout.js';

export interface ReadinessDeps {
  store: Pick<SyncStore, 'latestVersion'>;
  /** The newest version this gateway's change feed knows of. */
  knownVersion: () => number;
  clock: Clock;
  /** Several gateways share the store: check that their signals arrive. */
  multiGateway: boolean;
  stopping: () => boolean;
  timeoutMs?: number;
  signalGraceMs?: number;
}

type Check = { ok: true; [detail: string]: unknown } | { ok: false; error: string };

export interface ReadyReport {
  status: 'ready' | 'unavailable';
  failed?: string[];
  checks: Record<string, Check>;
}

/** How long the store's latest version has been ahead of the feed's, for the signals check. */
class SignalLag {
  private behind: { version: number; since: number } | null = null;

  constructor(private readonly graceMs: number) {}

  check(storeLatest: number, known: number, now: number): Check {
    if (known >= storeLatest) {
      this.behind = null;
      return { ok: true, knownVersion: known };
    }
    if (!this.behind || known >= this.behind.version) {
      this.behind = { version: storeLatest, since: now };
    }
    const waited = now - this.behind.since;
    if (waited <= this.graceMs)
      return { ok: true, knownVersion: known, waitingForVersion: storeLatest };
    const { version } = this.behind;
    const error = `no signal of version ${version} arrived within ${waited} ms of its being in the store (this gateway knows ${known})`;
    return { ok: false, error };
  }
}

export class Readiness {
  private readonly lag: SignalLag;
  private probing: Promise<ReadyReport> | null = null;

  constructor(private readonly deps: ReadinessDeps) {
    this.lag = new SignalLag(deps.signalGraceMs ?? 10_000);
  }

  stopping(): boolean {
    return this.deps.stopping();
  }

  /** The report; never rejects. */
  check(): Promise<ReadyReport> {
    if (this.deps.stopping()) {
      const checks = { shutdown: { ok: false, error: 'the gateway is shutting down' } as const };
      return Promise.resolve({ status: 'unavailable', failed: ['shutdown'], checks });
    }
    this.probing ??= this.probe().finally(() => (this.probing = null));
    return this.probing;
  }

  private async probe(): Promise<ReadyReport> {
    const { store, clock, timeoutMs = 1_000 } = this.deps;
    const checks: Record<string, Check> = {};
    try {
      const latest = await withTimeout(() => store.latestVersion(), timeoutMs, clock);
      checks.store = { ok: true, latestVersion: latest };
      checks.signals = this.signals(latest);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      checks.store = { ok: false, error: `latestVersion(): ${reason}` };
    }
    const failed = Object.keys(checks).filter((name) => !checks[name]!.ok);
    if (failed.length === 0) return { status: 'ready', checks };
    return { status: 'unavailable', failed, checks };
  }

  private signals(latest: number): Check {
    if (!this.deps.multiGateway) return { ok: true, mode: 'single gateway: no signals' };
    return this.lag.check(latest, this.deps.knownVersion(), this.deps.clock.now().getTime());
  }
}
