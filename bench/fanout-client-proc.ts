/**
 * A client process of the fan-out and memory scenarios: holds many sockets (see
 * fanout-socket.ts), records each measured delivery's latency, reports on command.
 */
import type { FanCommand, FanReply, Receiver } from './fanout-protocol.js';
import { syncSocket, tickSocket } from './fanout-socket.js';
import { LeanSocket } from './lean-socket.js';
import { logSetup, monitorProcess, type SetupCounters } from './progress.js';
import { pool, Samples } from './samples.js';

/** Sockets being opened at once, per process (more only fills the server's accept queue). */
const CONCURRENCY = 50;
/** A setup in which no socket has finished (subscribed or failed) for this long fails. */
const STALL_MS = 60_000;

const reply = (message: FanReply): void => void process.send!(message);

interface State {
  sockets: LeanSocket[];
  latencies: Samples;
  /** Measured deliveries per session. */
  counts: Int32Array;
  received: number;
  /** Acknowledgements answered (BENCH_FANOUT_ACK). */
  acks: number;
  errors: string[];
}

let state: State = fresh(0);

/**
 * The newest toServerVersion each client received, kept across connections: a client
 * connecting again follows `changes` from there (`since`), as the SDK does.
 */
const received = new Map<string, number>();

function fresh(sessions: number): State {
  return {
    sockets: [],
    latencies: new Samples(),
    counts: new Int32Array(sessions),
    received: 0,
    acks: 0,
    errors: [],
  };
}

/** `items` in consecutive groups of `size`. */
function groups<T>(items: T[], size: number): { item: T; i: number }[][] {
  const out: { item: T; i: number }[][] = [];
  items.forEach((item, i) => {
    if (i % size === 0) out.push([]);
    out.at(-1)!.push({ item, i });
  });
  return out;
}

async function connect(command: Extract<FanCommand, { type: 'connect' }>): Promise<void> {
  const { wsUrl, kind, receivers, measureFrom } = command;
  const perSocket = command.sessionsPerSocket ?? 1;
  const s = (state = fresh(receivers.length));
  const onError = (error: Error) => s.errors.push(error.message);
  const counters: SetupCounters = {
    total: receivers.length,
    opened: 0,
    sessions: 0,
    subscribed: 0,
    failed: 0,
  };
  const stopLog = logSetup(`clients ${process.pid}`, counters);
  const stalled = watchStall(counters);
  const session = async (ws: LeanSocket, receiver: Receiver, i: number) => {
    const onDelivery = (n: number, ms: number) => {
      if (n < measureFrom) return;
      s.latencies.push(ms);
      s.counts[i]! += 1;
      s.received += 1;
    };
    const clientId = `fan-${receiver.userId}`;
    await syncSocket(ws, clientId, {
      since: received.get(clientId),
      onVersion: (version) => received.set(clientId, version),
      three: kind === 'three',
      ack: command.ack,
      onDelivery,
      onError,
      onSession: () => void (counters.sessions += 1),
      onAck: () => void (s.acks += 1),
    });
  };
  try {
    // One socket per group, opened with its first receiver's token: a group's sessions are
    // all that user's.
    const setup = pool(groups(receivers, perSocket), CONCURRENCY, async (group) => {
      let at = group[0]!.i;
      try {
        const ws = await LeanSocket.open(wsUrl, group[0]!.item.token);
        counters.opened += 1;
        s.sockets.push(ws);
        for (const { item, i } of group) {
          at = i;
          if (kind === 'tick') await tickSocket(ws, onError);
          else await session(ws, item, i);
          counters.subscribed += 1;
        }
      } catch (error) {
        counters.failed += 1;
        throw new Error(`session ${at + 1} of ${receivers.length}: ${(error as Error).message}`);
      }
    });
    await Promise.race([setup, stalled.promise]);
  } finally {
    stalled.stop();
    stopLog();
  }
  reply({ type: 'connected' });
}

/** Rejects when no socket has finished its setup for STALL_MS, saying how far it got. */
function watchStall(counters: SetupCounters) {
  let [done, at] = [0, Date.now()];
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<never>((_, reject) => {
    timer = setInterval(() => {
      const now = counters.subscribed + counters.failed;
      if (now !== done) [done, at] = [now, Date.now()];
      else if (Date.now() - at > STALL_MS) {
        const { total, opened, sessions, subscribed } = counters;
        reject(
          new Error(
            `setup stalled for ${STALL_MS / 1000} s: ${subscribed}/${total} subscribed,` +
              ` ${sessions} sessions, ${opened} sockets opened`,
          ),
        );
      }
    }, 1000);
  });
  promise.catch(() => undefined);
  return { promise, stop: () => clearInterval(timer) };
}

function collect(expectedPerSession: number): void {
  const short = state.counts.filter((c) => c < expectedPerSession).length;
  const errors = [...new Set(state.errors)].slice(0, 10);
  const { latencies, acks } = state;
  reply({ type: 'collected', latencies: latencies.toArray(), short, acks, errors });
}

async function close(): Promise<void> {
  await Promise.all(state.sockets.map((ws) => ws.close()));
  state = fresh(0);
  reply({ type: 'closed' });
}

async function handle(command: FanCommand): Promise<void> {
  switch (command.type) {
    case 'connect':
      return connect(command);
    case 'count':
      return reply({ type: 'count', received: state.received });
    case 'collect':
      return collect(command.expectedPerSession);
    case 'close':
      return close();
    case 'exit':
      process.exit(0);
  }
}

monitorProcess(`clients ${process.pid}`);

// The runner is gone (it failed or was killed): do not hold the sockets on.
process.on('disconnect', () => process.exit(1));

process.on('message', (command: FanCommand) => {
  handle(command).catch((error: unknown) =>
    reply({ type: 'error', message: error instanceof Error ? error.message : String(error) }),
  );
});
