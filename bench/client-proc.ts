/**
 * The bench's client process: drives sockets against the gateway on command of the parent
 * (see protocol.ts). Load: N clients upload sequential changesets as fast as acks come
 * back. Latency: client A uploads, client B (same user) waits for the `changes` event.
 */
import { performance } from 'node:perf_hooks';
import { BenchClient, request, type Batch } from './ws-client.js';
import type { Command, LoadClient, Reply, SdkScenario } from './protocol.js';
import {
  rawBacklogOne,
  rawBacklogTwo,
  rawCatchUp,
  rawLive,
  sdkBacklog,
  sdkCatchUp,
  sdkLive,
  type Target,
} from './sdk-clients.js';

const reply = (message: Reply) => process.send!(message);

interface Load {
  clients: BenchClient[];
  /** Inserts per changeset. */
  changes: number;
  stopping: boolean;
  acks: number;
  errors: string[];
  loops: Promise<void>[];
  cpu: NodeJS.CpuUsage;
  startedAt: number;
}

let load: Load | null = null;

async function setupLoad(wsUrl: string, specs: LoadClient[], changes = 1): Promise<void> {
  const clients = specs.map((s) => new BenchClient(wsUrl, s.token, s.userId, s.clientId));
  await Promise.all(clients.map((c) => c.open()));
  load = {
    clients,
    changes,
    stopping: false,
    acks: 0,
    errors: [],
    loops: [],
    cpu: process.cpuUsage(),
    startedAt: 0,
  };
  reply({ type: 'load-ready' });
}

/** One client: the next changeset as soon as the previous one is acknowledged. */
async function uploadLoop(state: Load, client: BenchClient): Promise<void> {
  while (!state.stopping) {
    try {
      const prefix = `${client.clientId}-${client.clientVersion + 1}`;
      const ids = Array.from({ length: state.changes }, (_, i) => (i ? `${prefix}-${i}` : prefix));
      await client.uploadInserts(ids);
      state.acks += 1;
    } catch (error) {
      state.errors.push(`${client.clientId}: ${(error as Error).message}`);
      return; // its next clientVersion would be refused as a gap
    }
  }
}

function startLoad(): void {
  const state = load!;
  state.cpu = process.cpuUsage();
  state.startedAt = performance.now();
  state.loops = state.clients.map((c) => uploadLoop(state, c));
}

async function stopLoad(): Promise<void> {
  const state = load!;
  state.stopping = true;
  await Promise.all(state.loops);
  const cpu = process.cpuUsage(state.cpu);
  const wallMs = performance.now() - state.startedAt;
  await Promise.all(state.clients.map((c) => c.dispose()));
  load = null;
  const cpuMs = (cpu.user + cpu.system) / 1000;
  reply({ type: 'load-done', acks: state.acks, errors: state.errors, cpuMs, wallMs });
}

/** Resolves waiters when a client's stream delivers the document they wait for. */
class Arrivals {
  private readonly seen = new Set<string>();
  private readonly waiters = new Map<string, () => void>();
  private first: (() => void) | null = null;
  readonly firstBatch = new Promise<void>((resolve) => (this.first = resolve));

  onBatch = (batch: Batch): void => {
    this.first?.();
    for (const change of batch.changes) {
      const waiter = this.waiters.get(change.id);
      if (waiter) waiter();
      else this.seen.add(change.id);
    }
  };

  waitFor(id: string, timeoutMs = 10_000): Promise<void> {
    if (this.seen.delete(id)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no changes event for ${id}`)), timeoutMs);
      this.waiters.set(id, () => {
        clearTimeout(timer);
        this.waiters.delete(id);
        resolve();
      });
    });
  }
}

async function timed<T>(run: () => Promise<T>): Promise<number> {
  const start = performance.now();
  await run();
  return performance.now() - start;
}

/** One upload by A; returns [ms until B's event, ms until A's ack], once A has its event too. */
async function oneUpload(a: BenchClient, streams: { a: Arrivals; b: Arrivals }, id: string) {
  const start = performance.now();
  const ownEvent = streams.a.waitFor(id);
  const seen = streams.b.waitFor(id).then(() => performance.now() - start);
  const acked = a.uploadInsert(id).then(() => performance.now() - start);
  const [e2e, ack] = await Promise.all([seen, acked, ownEvent]);
  return [e2e, ack] as const;
}

/** A and B, same user, both following the collection's `changes` stream. */
async function openPair(command: Extract<Command, { type: 'latency' }>) {
  const { wsUrl, token, userId } = command;
  const suffix = process.hrtime.bigint();
  const a = new BenchClient(wsUrl, token, userId, `lat-a-${suffix}`);
  const b = new BenchClient(wsUrl, token, userId, `lat-b-${suffix}`);
  await Promise.all([a.open(), b.open()]);
  const streams = { a: new Arrivals(), b: new Arrivals() };
  const failure = { error: null as unknown };
  const fail = (error: unknown) => (failure.error = error);
  a.follow(streams.a.onBatch, fail);
  b.follow(streams.b.onBatch, fail);
  await Promise.all([streams.a.firstBatch, streams.b.firstBatch]);
  return { a, b, streams, failure };
}

/** Per iteration: a bare round trip (the floor), then one upload timed to B's event. */
async function measureLatency(command: Extract<Command, { type: 'latency' }>): Promise<void> {
  const { a, b, streams, failure } = await openPair(command);
  const out = { e2e: [] as number[], roundTrip: [] as number[], ack: [] as number[] };
  for (let i = 0; i < command.warmup + command.samples; i++) {
    const roundTrip = await timed(() => request(a.ws, '{ __typename }'));
    const [e2e, ack] = await oneUpload(a, streams, `lat-${i}`);
    if (failure.error) throw failure.error;
    if (i < command.warmup) continue;
    out.roundTrip.push(roundTrip);
    out.e2e.push(e2e);
    out.ack.push(ack);
  }
  await Promise.all([a.dispose(), b.dispose()]);
  reply({ type: 'latency-done', ...out });
}

const SDK_SCENARIOS: Record<SdkScenario, (t: Target, count: number) => Promise<number>> = {
  'sdk-live': sdkLive,
  'raw-live': rawLive,
  'sdk-catch-up': sdkCatchUp,
  'raw-catch-up': rawCatchUp,
  'sdk-backlog': sdkBacklog,
  'raw-backlog-1': rawBacklogOne,
  'raw-backlog-2': rawBacklogTwo,
};

async function runSdk(command: Extract<Command, { type: 'sdk' }>): Promise<void> {
  const ms = await SDK_SCENARIOS[command.scenario](command, command.count);
  reply({ type: 'sdk-done', ms });
}

async function handle(command: Command): Promise<void> {
  switch (command.type) {
    case 'load-setup':
      return setupLoad(command.wsUrl, command.clients, command.changes);
    case 'load-go':
      return startLoad();
    case 'load-stop':
      return stopLoad();
    case 'latency':
      return measureLatency(command);
    case 'sdk':
      return runSdk(command);
    case 'exit':
      process.exit(0);
  }
}

process.on('message', (command: Command) => {
  handle(command).catch((error: unknown) =>
    reply({ type: 'error', message: error instanceof Error ? error.message : String(error) }),
  );
});
