/**
 * The gateway's Prometheus metrics, on a registry of its own (several gateways in one
 * process never collide), plus the process metrics of prom-client's collectDefaultMetrics
 * (CPU, memory, handles, GC, `nodejs_eventloop_lag_seconds`) on one registry per process.
 * `GatewayMetrics` is the domain's SyncObserver for metrics; docs/grafana-dashboard.json
 * charts what it counts.
 */
import { performance } from 'node:perf_hooks';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Clock } from '../clock.js';
import { ErrorCodes } from '../errors.js';
import type { SessionService } from '../session/session-service.js';
import {
  SUBSCRIPTION_NAMES,
  type DownloadAck,
  type SubscriptionName,
  type SyncObserver,
  type UploadOutcome,
} from '../sync/observer.js';
import { registerSessionGauges } from './metrics-sessions.js';

const SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const GROUP_SIZES = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512];
const VERSIONS = [0, 1, 10, 100, 1_000, 10_000, 100_000, 1_000_000];

let processRegistry: Registry | undefined;

/** The process's metrics, collected once per process whatever the number of gateways. */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/** A code as a label value: NONE, a code's shape, or OTHER, so a label never grows unbounded. */
function codeLabel(code: unknown): string {
  if (code === undefined || code === null) return 'NONE';
  return typeof code === 'string' && /^[A-Z][A-Z0-9_]{0,39}$/.test(code) ? code : 'OTHER';
}

/** `PERMISSION_DENIED: UPDATE refused by …` → `PERMISSION_DENIED`. */
const reasonLabel = (reason: string) => codeLabel(/^([A-Z_]+):/.exec(reason)?.[1]);

type Registers = Registry[];

function counters(registers: Registers) {
  const counter = <L extends string>(name: string, help: string, labelNames: L[] = []) =>
    new Counter<L>({ name, help, labelNames, registers });
  return {
    uploads: counter('sync_uploads_total', 'uploadChanges calls ended, by outcome', ['outcome']),
    changes: counter(
      'sync_changes_integrated_total',
      'Changes integrated (re-sent and refused ones excluded)',
    ),
    refused: counter(
      'sync_refused_writes_total',
      'Writes refused by integration (compensating writes), by reason',
      ['reason'],
    ),
    errors: counter('sync_graphql_errors_total', 'GraphQL errors masked and answered, by code', [
      'code',
    ]),
  };
}

function histograms(registers: Registers) {
  const histogram = (name: string, help: string, buckets: number[]) =>
    new Histogram({ name, help, buckets, registers });
  return {
    uploadSeconds: histogram(
      'sync_upload_duration_seconds',
      'From uploadChanges to its durable answer, integrated uploads',
      SECONDS,
    ),
    integrationSeconds: histogram(
      'sync_integration_duration_seconds',
      "An upload's integration in the store, group commit wait and fsync included",
      SECONDS,
    ),
    groupSize: histogram(
      'sync_group_commit_size',
      'Integrations committed together in one transaction (SQLite)',
      GROUP_SIZES,
    ),
    lag: histogram(
      'sync_download_lag_versions',
      'At each acknowledgeDownload: latest server version - acknowledged version',
      VERSIONS,
    ),
  };
}

function define(registry: Registry) {
  const registers = [registry];
  const subscriptions = new Gauge({
    name: 'sync_subscriptions_open',
    help: 'Subscriptions open, by operation',
    labelNames: ['operation'],
    registers,
  });
  return { ...counters(registers), ...histograms(registers), subscriptions };
}

export interface MetricsDeps {
  sessions: SessionService;
  clock: Clock;
  /** Monotonic milliseconds, for durations (default: performance.now). */
  now?: () => number;
}

export class GatewayMetrics implements SyncObserver {
  readonly registry = new Registry();
  private readonly m = define(this.registry);
  private readonly now: () => number;

  constructor(deps: MetricsDeps) {
    this.now = deps.now ?? (() => performance.now());
    this.zeroes();
    const latest = () => deps.sessions.core.feed.latest;
    new Gauge({
      name: 'sync_latest_server_version',
      help: 'The latest server version this gateway knows of',
      registers: [this.registry],
      collect() {
        this.set(latest());
      },
    });
    registerSessionGauges(this.registry, deps.sessions, deps.clock);
  }

  /** The series that exist from the start, so that rate() sees their first increase. */
  private zeroes(): void {
    for (const operation of SUBSCRIPTION_NAMES) this.m.subscriptions.set({ operation }, 0);
    for (const outcome of ['integrated', 'rejected', 'error']) this.m.uploads.inc({ outcome }, 0);
    for (const reason of ['PERMISSION_DENIED', 'NOT_FOUND']) this.m.refused.inc({ reason }, 0);
    for (const code of [...Object.values(ErrorCodes), 'INTERNAL_SERVER_ERROR']) {
      this.m.errors.inc({ code }, 0);
    }
    this.m.changes.inc(0);
  }

  /** The exposition text: this gateway's metrics and the process's. */
  async exposition(): Promise<{ contentType: string; body: string }> {
    const merged = Registry.merge([processMetrics(), this.registry]);
    return { contentType: merged.contentType, body: await merged.metrics() };
  }

  /** A GraphQL error answered (from the masking point). */
  errorAnswered(code: unknown): void {
    this.m.errors.inc({ code: codeLabel(code) });
  }

  private span(): () => number {
    const start = this.now();
    return () => (this.now() - start) / 1000;
  }

  uploadStarted() {
    const seconds = this.span();
    return (outcome: UploadOutcome) => {
      if (!outcome.ok) {
        const expected = outcome.code !== 'INTERNAL_SERVER_ERROR';
        return this.m.uploads.inc({ outcome: expected ? 'rejected' : 'error' });
      }
      this.m.uploads.inc({ outcome: 'integrated' });
      this.m.changes.inc(outcome.changes);
      this.m.uploadSeconds.observe(seconds());
      for (const r of outcome.refused) this.m.refused.inc({ reason: reasonLabel(r.reason) });
    };
  }

  integrationStarted() {
    const seconds = this.span();
    return () => this.m.integrationSeconds.observe(seconds());
  }

  groupCommitted(size: number): void {
    this.m.groupSize.observe(size);
  }

  downloadAcknowledged(ack: DownloadAck): void {
    this.m.lag.observe(Math.max(0, ack.latest - ack.version));
  }

  subscriptionOpened(name: SubscriptionName): void {
    this.m.subscriptions.inc({ operation: name });
  }

  subscriptionClosed(name: SubscriptionName): void {
    this.m.subscriptions.dec({ operation: name });
  }

  sessionChanged(): void {}
}
