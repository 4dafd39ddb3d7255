/**
 * A client process of the fan-out and memory scenarios: holds many sockets (see
 * fanout-socket.ts), records each measured delivery's latency, reports on command.
 */
import type { FanCommand, FanReply } from './fanout-protocol.js';
import { syncSocket, tickSocket } from './fanout-socket.js';
import { LeanSocket } from './lean-socket.js';
import { pool, Samples } from './samples.js';

/** Sockets being opened at once, per process (more only fills the server's accept queue). */
const CONCURRENCY = 50;

const reply = (message: FanReply): void => void process.send!(message);

interface State {
  sockets: LeanSocket[];
  latencies: Samples;
  /** Measured deliveries per session. */
  counts: Int32Array;
  received: number;
  errors: string[];
}

let state: State = fresh(0);

function fresh(sessions: number): State {
  return {
    sockets: [],
    latencies: new Samples(),
    counts: new Int32Array(sessions),
    received: 0,
    errors: [],
  };
}

async function connect(command: Extract<FanCommand, { type: 'connect' }>): Promise<void> {
  const { wsUrl, kind, receivers, measureFrom } = command;
  const s = (state = fresh(receivers.length));
  const onError = (error: Error) => s.errors.push(error.message);
  await pool(receivers, CONCURRENCY, async (receiver, i) => {
    const ws = await LeanSocket.open(wsUrl, receiver.token);
    s.sockets.push(ws);
    if (kind === 'tick') return tickSocket(ws, onError);
    const onDelivery = (n: number, ms: number) => {
      if (n < measureFrom) return;
      s.latencies.push(ms);
      s.counts[i]! += 1;
      s.received += 1;
    };
    await syncSocket(ws, `fan-${receiver.userId}`, kind === 'three', onDelivery, onError);
  });
  reply({ type: 'connected' });
}

function collect(expectedPerSession: number): void {
  const short = state.counts.filter((c) => c < expectedPerSession).length;
  const errors = [...new Set(state.errors)].slice(0, 10);
  reply({ type: 'collected', latencies: state.latencies.toArray(), short, errors });
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

process.on('message', (command: FanCommand) => {
  handle(command).catch((error: unknown) =>
    reply({ type: 'error', message: error instanceof Error ? error.message : String(error) }),
  );
});
