/**
 * A TCP fault proxy for tests: real clients connect to it, it connects each one to the
 * upstream (the gateway), and a test injects network faults into those real connections.
 *
 *   client ──▶ [up pipe] ──▶ upstream        each pipe: a FIFO of chunks, each due at a time
 *   client ◀── [down pipe] ◀── upstream      (latency), held while partitioned
 *
 *   reset()       every current pair is reset (RST both ways: ECONNRESET, WebSocket 1006)
 *   partition()   bytes both ways are held (up to maxHeldBytes per direction, then the pair is
 *                 reset); new connections are accepted, held, and not connected upstream
 *   heal()        ends the partition: every pair is reset and held bytes dropped, or with
 *                 { close: false } held bytes are flushed and traffic continues
 *   setLatency()  every chunk waits ms ± jitterMs each way, order kept per direction
 *   refuse(true)  new connections are reset as soon as accepted (the host is down)
 *   pause()       the upstream is gone: current pairs are reset, new clients are closed at once
 */
import net, { type Server, type Socket } from 'node:net';
import { int, pick } from './seeded.js';

export interface FaultProxyOptions {
  upstreamPort: number;
  upstreamHost?: string;
  /** Draws latency jitter; Math.random by default. */
  random?: () => number;
  /** Bytes held per direction during a partition before that pair is reset (1 MiB). */
  maxHeldBytes?: number;
}

export interface FaultProxy {
  readonly port: number;
  /** ws://127.0.0.1:port/path */
  url(path?: string): string;
  /** Where new connections go; current ones stay where they are. */
  setUpstream(port: number, host?: string): void;
  /** Resets every current pair at once; returns how many. */
  reset(): number;
  partition(): void;
  heal(options?: { close?: boolean }): void;
  setLatency(ms: number, jitterMs?: number): void;
  refuse(on: boolean): void;
  pause(): void;
  resume(): void;
  /** Stops listening and resets every pair; no timers are left behind. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
  /** Open pairs. */
  readonly connections: number;
  /** Connections let through since the start. */
  readonly accepted: number;
  /** Connections closed on arrival, by refuse() or pause(). */
  readonly refused: number;
  readonly partitioned: boolean;
  readonly refusing: boolean;
  readonly paused: boolean;
  readonly latency: { ms: number; jitterMs: number };
}

const MiB = 1024 * 1024;
/** Beyond this many queued bytes (latency, slow reader) the source is paused, not buffered. */
const HIGH_WATER = MiB;

/** What a pipe asks of its proxy. */
interface Control {
  held(): boolean;
  delay(): number;
  readonly maxHeldBytes: number;
}

/** Resets a socket (RST) if it is connected, else just destroys it. */
function hardClose(socket: Socket): void {
  if (socket.destroyed) return;
  if (socket.connecting) socket.destroy();
  else socket.resetAndDestroy();
}

/** One direction of a pair: reads its source, writes its target in order, each chunk when due. */
class Pipe {
  private readonly queue: { chunk: Buffer; due: number }[] = [];
  private bytes = 0;
  private lastDue = 0;
  private timer: NodeJS.Timeout | undefined;
  private waitingDrain = false;
  private throttled = false;
  private stopped = false;
  /** The source sent FIN. */
  ended = false;
  /** FIN was passed on to the target. */
  finished = false;

  constructor(
    private readonly source: Socket,
    public target: Socket | null,
    private readonly control: Control,
    private readonly fail: () => void,
  ) {
    source.on('data', (chunk: Buffer) => this.push(chunk));
    source.on('end', () => {
      this.ended = true;
      this.pump();
    });
  }

  private held(): boolean {
    return this.target === null || this.control.held();
  }

  private push(chunk: Buffer): void {
    if (this.stopped) return;
    // Never earlier than the chunk before: order holds whatever the jitter.
    this.lastDue = Math.max(performance.now() + this.control.delay(), this.lastDue);
    this.queue.push({ chunk, due: this.lastDue });
    this.bytes += chunk.length;
    if (this.held()) {
      if (this.bytes > this.control.maxHeldBytes) this.fail();
      return;
    }
    this.pump();
    if (!this.throttled && this.bytes > HIGH_WATER) {
      this.throttled = true;
      this.source.pause();
    }
  }

  /** Writes every chunk that is due, then waits for the next one, a drain, or the heal. */
  pump(): void {
    const target = this.target;
    if (this.stopped || target === null || this.control.held()) return;
    const now = performance.now();
    for (let head = this.queue[0]; head && head.due <= now; head = this.queue[0]) {
      if (target.destroyed || !target.writable) return this.fail();
      if (target.writableNeedDrain) return this.awaitDrain(target);
      this.queue.shift();
      this.bytes -= head.chunk.length;
      target.write(head.chunk);
    }
    const next = this.queue[0];
    if (next) this.schedule(next.due - now);
    else if (this.ended && !this.finished) {
      this.finished = true;
      target.end();
    }
    if (this.throttled && this.bytes < HIGH_WATER / 2) {
      this.throttled = false;
      this.source.resume();
    }
  }

  private schedule(ms: number): void {
    if (this.timer) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.pump();
      },
      Math.max(1, Math.ceil(ms)),
    );
  }

  private awaitDrain(target: Socket): void {
    if (this.waitingDrain) return;
    this.waitingDrain = true;
    target.once('drain', () => {
      this.waitingDrain = false;
      this.pump();
    });
  }

  /** Drops what is queued and clears the timer; the pipe does nothing after. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.queue.length = 0;
    this.bytes = 0;
  }
}

/** A client socket, its upstream socket once connected, and a pipe each way. */
class Pair {
  readonly up: Pipe;
  down: Pipe | null = null;
  upstream: Socket | null = null;
  closed = false;
  /** One side went away during a partition; the other learns at the heal. */
  broken = false;

  constructor(
    readonly client: Socket,
    private readonly control: Control,
    private readonly onGone: (pair: Pair) => void,
  ) {
    client.setNoDelay(true);
    this.up = new Pipe(client, null, control, () => this.destroy());
    this.watch(client);
  }

  connect(port: number, host: string): void {
    if (this.upstream || this.closed) return;
    const socket = net.connect({ port, host, allowHalfOpen: true });
    this.upstream = socket;
    this.watch(socket);
    socket.once('connect', () => {
      socket.setNoDelay(true);
      this.down = new Pipe(socket, this.client, this.control, () => this.destroy());
      this.up.target = socket;
      this.up.pump();
    });
  }

  pump(): void {
    this.up.pump();
    this.down?.pump();
  }

  private watch(socket: Socket): void {
    socket.on('error', () => this.onSocketGone(socket));
    socket.on('close', () => this.onSocketGone(socket));
  }

  private onSocketGone(socket: Socket): void {
    if (this.closed) return;
    if (this.control.held()) {
      // A partition hides the close from the other side until the heal.
      this.broken = true;
      socket.destroy();
      return;
    }
    const fromClient = socket === this.client;
    const from = fromClient ? this.up : this.down;
    const to = fromClient ? this.down : this.up;
    const other = fromClient ? this.upstream : this.client;
    // A clean close (FIN both ways): the other direction still delivers what it holds.
    if (from?.ended && to?.finished && other && !other.destroyed) return;
    this.destroy();
  }

  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    this.up.stop();
    this.down?.stop();
    hardClose(this.client);
    if (this.upstream) hardClose(this.upstream);
    this.onGone(this);
  }
}

class FaultProxyServer implements FaultProxy {
  private readonly pairs = new Set<Pair>();
  private readonly random: () => number;
  private readonly control: Control;
  private upstreamPort: number;
  private upstreamHost: string;
  private latencyMs = 0;
  private jitterMs = 0;
  private closing = false;
  private closed: Promise<void> | undefined;
  port = 0;
  accepted = 0;
  refused = 0;
  partitioned = false;
  refusing = false;
  paused = false;

  constructor(
    private readonly server: Server,
    options: FaultProxyOptions,
  ) {
    this.upstreamPort = options.upstreamPort;
    this.upstreamHost = options.upstreamHost ?? '127.0.0.1';
    this.random = options.random ?? Math.random;
    this.control = {
      held: () => this.partitioned,
      delay: () => this.delay(),
      maxHeldBytes: options.maxHeldBytes ?? MiB,
    };
    server.on('connection', (socket) => this.onConnection(socket));
  }

  get connections(): number {
    return this.pairs.size;
  }

  get latency(): { ms: number; jitterMs: number } {
    return { ms: this.latencyMs, jitterMs: this.jitterMs };
  }

  url(path = '/graphql'): string {
    return `ws://127.0.0.1:${this.port}${path.startsWith('/') ? path : `/${path}`}`;
  }

  setUpstream(port: number, host = this.upstreamHost): void {
    this.upstreamPort = port;
    this.upstreamHost = host;
  }

  private delay(): number {
    if (this.latencyMs === 0 && this.jitterMs === 0) return 0;
    return Math.max(0, this.latencyMs + (this.random() * 2 - 1) * this.jitterMs);
  }

  private onConnection(client: Socket): void {
    client.on('error', () => {}); // a refused client may still error; a pair adds its own handler
    if (this.closing || this.refusing) {
      if (!this.closing) this.refused++;
      return hardClose(client);
    }
    if (this.paused) {
      this.refused++;
      client.destroy(); // as a proxy does when it cannot reach its upstream: a plain close
      return;
    }
    this.accepted++;
    const pair = new Pair(client, this.control, (gone) => this.pairs.delete(gone));
    this.pairs.add(pair);
    if (!this.partitioned) pair.connect(this.upstreamPort, this.upstreamHost);
  }

  reset(): number {
    const pairs = [...this.pairs];
    for (const pair of pairs) pair.destroy();
    return pairs.length;
  }

  partition(): void {
    this.partitioned = true;
  }

  heal({ close = true }: { close?: boolean } = {}): void {
    if (!this.partitioned) return;
    this.partitioned = false;
    for (const pair of [...this.pairs]) {
      if (close || pair.broken) pair.destroy();
      else if (!pair.upstream) pair.connect(this.upstreamPort, this.upstreamHost);
      else pair.pump();
    }
  }

  setLatency(ms: number, jitterMs = 0): void {
    if (!(ms >= 0 && jitterMs >= 0)) throw new RangeError(`bad latency ${ms}±${jitterMs}`);
    this.latencyMs = ms;
    this.jitterMs = jitterMs;
  }

  refuse(on: boolean): void {
    this.refusing = on;
  }

  pause(): void {
    this.paused = true;
    this.reset();
  }

  resume(): void {
    this.paused = false;
  }

  close(): Promise<void> {
    this.closed ??= new Promise<void>((resolve) => {
      this.closing = true;
      this.partitioned = false;
      this.server.close(() => resolve());
      this.reset();
    });
    return this.closed;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** Starts a fault proxy on 127.0.0.1, on a free port, in front of the given upstream. */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const server = net.createServer({ allowHalfOpen: true });
  const proxy = new FaultProxyServer(server, options);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  proxy.port = (server.address() as net.AddressInfo).port;
  return proxy;
}

export type ChaosFault = 'reset' | 'partition' | 'latency' | 'refuse';

export interface ChaosOptions {
  /** A seeded random (seededRandom(seed)): the whole schedule is drawn from it. */
  random: () => number;
  /** Mean pause between one fault's end and the next fault (drawn in [½, 1½] of it). */
  intervalMs?: number;
  faults?: readonly ChaosFault[];
  /** How long a partition lasts before it heals (with close). */
  partitionMs?: readonly [number, number];
  /** The latency a latency fault sets. */
  latencyMs?: readonly [number, number];
  /** How long latency and refusal last; partitionMs by default. */
  durationMs?: readonly [number, number];
}

export interface Chaos {
  /** Each fault as applied, e.g. "#3 +41ms partition 30ms": a function of the seed alone. */
  readonly log: string[];
  /** Ends the schedule and clears every fault (heal with close, no latency, no refusal). */
  stop(): Promise<void>;
}

/**
 * Applies random faults to a proxy, one at a time, on a schedule drawn from `random`: wait,
 * apply a fault, wait its duration, clear it, and again.
 */
export function startChaos(proxy: FaultProxy, options: ChaosOptions): Chaos {
  const { random, intervalMs = 50, faults = ['reset', 'partition', 'latency', 'refuse'] } = options;
  if (faults.length === 0) throw new RangeError('startChaos: no faults to apply');
  const log: string[] = [];
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const later = (ms: number, then: () => void) => {
    timer = setTimeout(() => {
      timer = undefined;
      if (!stopped) then();
    }, ms);
  };
  const next = () => {
    const gap = int(random, intervalMs / 2, (intervalMs * 3) / 2);
    later(gap, () => {
      const { duration, clear } = applyFault(proxy, pick(random, faults), options, (entry) =>
        log.push(`#${log.length + 1} +${gap}ms ${entry}`),
      );
      later(duration, () => {
        clear();
        next();
      });
    });
  };
  next();
  return {
    log,
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      clearFaults(proxy);
      log.push('stop');
    },
  };
}

function applyFault(
  proxy: FaultProxy,
  fault: ChaosFault,
  options: ChaosOptions,
  note: (entry: string) => void,
): { duration: number; clear: () => void } {
  const { random, partitionMs = [20, 100], latencyMs = [5, 50] } = options;
  const durationMs = options.durationMs ?? partitionMs;
  switch (fault) {
    case 'reset':
      note('reset');
      proxy.reset();
      return { duration: 0, clear: () => {} };
    case 'partition': {
      const duration = int(random, ...partitionMs);
      note(`partition ${duration}ms`);
      proxy.partition();
      return { duration, clear: () => proxy.heal({ close: true }) };
    }
    case 'latency': {
      const ms = int(random, ...latencyMs);
      const duration = int(random, ...durationMs);
      note(`latency ${ms}ms for ${duration}ms`);
      proxy.setLatency(ms);
      return { duration, clear: () => proxy.setLatency(0) };
    }
    case 'refuse': {
      const duration = int(random, ...durationMs);
      note(`refuse ${duration}ms`);
      proxy.refuse(true);
      return { duration, clear: () => proxy.refuse(false) };
    }
  }
}

function clearFaults(proxy: FaultProxy): void {
  if (proxy.partitioned) proxy.heal({ close: true });
  proxy.setLatency(0);
  proxy.refuse(false);
}
