/**
 * The fault proxy (test/helpers/fault-proxy.ts) in front of a real TCP echo server and a real
 * ws WebSocket server, and the seeded randomness (test/helpers/seeded.ts) its chaos draws on.
 * Assertions are on order and arrival; the only timing one is "latency is not under half".
 */
import { randomBytes } from 'node:crypto';
import net, { type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it, vi } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { startChaos, startFaultProxy, type FaultProxy } from './helpers/fault-proxy.js';
import { int, pick, seededRandom, seedsFromEnv, withSeed } from './helpers/seeded.js';

/** Long enough for bytes to cross localhost many times over, had the proxy let them. */
const QUIET_MS = 50;
const until = (check: () => void) => vi.waitFor(check, { timeout: 5_000, interval: 5 });

function listen(server: Server | WebSocketServer): Promise<number> {
  return new Promise((resolve) => {
    const done = () => resolve((server.address() as net.AddressInfo).port);
    if (server instanceof WebSocketServer) server.once('listening', done);
    else server.listen(0, '127.0.0.1', done);
  });
}

interface Echo {
  port: number;
  sockets: Set<Socket>;
  readonly accepted: number;
  received(): string;
  [Symbol.asyncDispose](): Promise<void>;
}

/** A TCP server that echoes every byte and records what it received. */
async function startEcho(): Promise<Echo> {
  const sockets = new Set<Socket>();
  const chunks: Buffer[] = [];
  let accepted = 0;
  const server = net.createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.pipe(socket);
  });
  const port = await listen(server);
  return {
    port,
    sockets,
    get accepted() {
      return accepted;
    },
    received: () => Buffer.concat(chunks).toString(),
    [Symbol.asyncDispose]: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A TCP client that records what it receives, its error and its close. */
function dial(port: number) {
  const socket = net.connect({ port, host: '127.0.0.1' });
  const chunks: Buffer[] = [];
  const state = { error: undefined as NodeJS.ErrnoException | undefined, closed: false };
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.on('error', (error) => (state.error = error));
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  void closed.then(() => (state.closed = true));
  return {
    socket,
    state,
    closed,
    bytes: () => Buffer.concat(chunks),
    received: () => Buffer.concat(chunks).toString(),
  };
}

describe('the fault proxy over TCP', () => {
  it('passes bytes both ways, counts connections and passes a clean close on', async () => {
    await using echo = await startEcho();
    await using proxy = await startFaultProxy({ upstreamPort: echo.port });
    const client = dial(proxy.port);
    client.socket.write('hello');
    await until(() => expect(client.received()).toBe('hello'));
    expect([proxy.connections, proxy.accepted, echo.received()]).toEqual([1, 1, 'hello']);
    client.socket.end();
    await client.closed;
    await until(() => expect(proxy.connections).toBe(0));
    expect(client.state.error).toBeUndefined();
  });

  it('passes 4 MiB intact and in order, through backpressure and latency', async () => {
    await using echo = await startEcho();
    await using proxy = await startFaultProxy({ upstreamPort: echo.port });
    proxy.setLatency(2, 2);
    const payload = randomBytes(4 * 1024 * 1024);
    const client = dial(proxy.port);
    client.socket.write(payload);
    await until(() => expect(client.bytes().length).toBe(payload.length));
    expect(client.bytes().equals(payload)).toBe(true);
  });

  it('reset() resets every pair at once: both sides close', async () => {
    await using echo = await startEcho();
    await using proxy = await startFaultProxy({ upstreamPort: echo.port });
    const clients = [dial(proxy.port), dial(proxy.port)];
    for (const client of clients) client.socket.write('x');
    await until(() => expect(clients.map((c) => c.received())).toEqual(['x', 'x']));
    expect(proxy.reset()).toBe(2);
    await Promise.all(clients.map((c) => c.closed));
    expect(clients.map((c) => c.state.error?.code)).toEqual(['ECONNRESET', 'ECONNRESET']);
    await until(() => expect(echo.sockets.size).toBe(0));
    expect(proxy.connections).toBe(0);
  });

  it('a partition holds bytes both ways, and the heal closes the held connections', async () => {
    await using echo = await startEcho();
    await using proxy = await startFaultProxy({ upstreamPort: echo.port });
    const client = dial(proxy.port);
    client.socket.write('before.');
    await until(() => expect(client.received()).toBe('before.'));
    proxy.partition();
    client.socket.write('during.');
    for (const socket of echo.sockets) socket.write('pushed.');
    await sleep(QUIET_MS);
    expect([echo.received(), client.received()]).toEqual(['before.', 'before.']);
    proxy.heal();
    await client.closed;
    await until(() => expect(echo.sockets.size).toBe(0));
    expect([echo.received(), client.received(), proxy.connections]).toEqual([
      'before.',
      'before.',
      0,
    ]);
  });

  it('heal({ close: false }) flushes the held bytes, new connections too, and traffic goes on', async () => {
    await using echo = await startEcho();
    await using proxy = await startFaultProxy({ upstreamPort: echo.port });
    const first = dial(proxy.port);
    first.socket.write('a');
    await until(() => expect(first.received()).toBe('a'));
    proxy.partition();
    first.socket.write('b');
    const second = dial(proxy.port);
    second.socket.write('c');
    await sleep(QUIET_MS);
    expect([first.received(), second.received(), echo.received(), echo.accepted]).toEqual([
      'a',
      '',
      'a',
      1,
    ]);
    expect([proxy.accepted, proxy.connections]).toEqual([2, 2]);
    proxy.heal({ close: false });
    await until(() => expect([first.received(), second.received()]).toEqual(['ab', 'c']));
    first.socket.write('d');
    await until(() => expect(first.received()).toBe('abd'));
    expect(first.state.closed || second.state.closed).toBe(false);
  });

  it('a partition resets a connection whose held bytes pass the bound', async () => {
    await using echo = await startEcho();
    await using proxy = await startFaultProxy({ upstreamPort: echo.port, maxHeldBytes: 64_000 });
    const client = dial(proxy.port);
    await until(() => expect(echo.sockets.size).toBe(1));
    proxy.partition();
    client.socket.write(Buffer.alloc(200_000));
    await client.closed;
    await until(() => expect(echo.sockets.size).toBe(0));
    expect([echo.received(), proxy.connections]).toEqual(['', 0]);
  });

  it('a close during a partition reaches the other side only at the heal', async () => {
    await using echo = await startEcho();
    await using proxy = await startFaultProxy({ upstreamPort: echo.port });
    const client = dial(proxy.port);
    await until(() => expect(echo.sockets.size).toBe(1));
    proxy.partition();
    client.socket.destroy();
    await sleep(QUIET_MS);
    expect(echo.sockets.size).toBe(1);
    proxy.heal({ close: false });
    await until(() => expect(echo.sockets.size).toBe(0));
    expect(proxy.connections).toBe(0);
  });

  it('latency delays each chunk each way, and jitter never reorders', async () => {
    await using echo = await startEcho();
    await using proxy = await startFaultProxy({
      upstreamPort: echo.port,
      random: seededRandom(3),
    });
    const client = dial(proxy.port);
    proxy.setLatency(60);
    const start = performance.now();
    client.socket.write('slow');
    await until(() => expect(client.received()).toBe('slow'));
    expect(performance.now() - start).toBeGreaterThanOrEqual(60); // two ways of 60ms each
    proxy.setLatency(5, 5);
    const sent = Array.from({ length: 200 }, (_, i) => `${i},`);
    for (const message of sent) {
      client.socket.write(message);
      await new Promise((resolve) => setImmediate(resolve)); // one chunk each, mostly
    }
    await until(() => expect(client.received()).toBe(`slow${sent.join('')}`));
  });

  it('refuse(true) closes new connections on arrival; current ones go on', async () => {
    await using echo = await startEcho();
    await using proxy = await startFaultProxy({ upstreamPort: echo.port });
    const current = dial(proxy.port);
    await until(() => expect(echo.sockets.size).toBe(1));
    proxy.refuse(true);
    const refused = dial(proxy.port);
    refused.socket.write('lost');
    await refused.closed;
    current.socket.write('on');
    await until(() => expect(current.received()).toBe('on'));
    expect([proxy.refused, proxy.accepted, echo.accepted, refused.received()]).toEqual([
      1,
      1,
      1,
      '',
    ]);
    proxy.refuse(false);
    const later = dial(proxy.port);
    later.socket.write('back');
    await until(() => expect(later.received()).toBe('back'));
  });

  it('pause() is the upstream gone: pairs close and new clients are closed; resume() ends it', async () => {
    await using echo = await startEcho();
    await using proxy = await startFaultProxy({ upstreamPort: echo.port });
    const current = dial(proxy.port);
    await until(() => expect(echo.sockets.size).toBe(1));
    proxy.pause();
    await current.closed;
    const during = dial(proxy.port);
    await during.closed;
    expect([echo.accepted, proxy.refused, proxy.connections]).toEqual([1, 1, 0]);
    proxy.resume();
    const after = dial(proxy.port);
    after.socket.write('up');
    await until(() => expect(after.received()).toBe('up'));
  });

  it('closes a client whose upstream cannot be reached, and setUpstream() moves new ones', async () => {
    await using echo = await startEcho();
    const dead = net.createServer();
    const deadPort = await listen(dead);
    await new Promise((resolve) => dead.close(resolve));
    await using proxy = await startFaultProxy({ upstreamPort: deadPort });
    const client = dial(proxy.port);
    client.socket.write('nobody');
    await client.closed;
    expect(proxy.connections).toBe(0);
    proxy.setUpstream(echo.port);
    const moved = dial(proxy.port);
    moved.socket.write('somebody');
    await until(() => expect(moved.received()).toBe('somebody'));
  });

  it('close() stops listening and leaves no sockets or timers behind', async () => {
    await using echo = await startEcho();
    const before = await settledResources();
    const proxy = await startFaultProxy({ upstreamPort: echo.port });
    const clients = [dial(proxy.port), dial(proxy.port)];
    await until(() => expect(echo.sockets.size).toBe(2));
    proxy.setLatency(10_000);
    for (const client of clients) client.socket.write('in flight');
    await sleep(QUIET_MS); // the proxy now holds the bytes, each with a timer
    await proxy.close();
    await Promise.all(clients.map((c) => c.closed));
    await until(() => expect(echo.sockets.size).toBe(0));
    const late = dial(proxy.port);
    await late.closed;
    expect(late.state.error?.code).toBe('ECONNREFUSED');
    expect(grown(before, await settledResources(before))).toEqual([]);
  });
});

/**
 * Counts of the handles that could leak (servers, sockets, timers), once they stop changing
 * or are down to `target` (a closed handle leaves the list a turn of the loop later). Polls
 * with sleep(), whose own timer is gone by the time it counts.
 */
async function settledResources(target?: Record<string, number>): Promise<Record<string, number>> {
  let counts = resources();
  for (let i = 0; i < 200; i++) {
    await sleep(10);
    const next = resources();
    const settled = target ? grown(target, next).length === 0 : sameCounts(counts, next);
    counts = next;
    if (settled) break;
  }
  return counts;
}

/** The kinds of handle there are more of than before (vitest's own timers come and go). */
function grown(before: Record<string, number>, after: Record<string, number>): string[] {
  return Object.keys(after).filter((kind) => (after[kind] ?? 0) > (before[kind] ?? 0));
}

const sameCounts = (a: Record<string, number>, b: Record<string, number>) =>
  Object.keys(a).every((kind) => a[kind] === b[kind]);

function resources(): Record<string, number> {
  const counts: Record<string, number> = { TCPServerWrap: 0, TCPSocketWrap: 0, Timeout: 0 };
  for (const name of process.getActiveResourcesInfo()) {
    if (name in counts) counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}

interface WsEcho {
  port: number;
  paths: string[];
  received: string[];
  closes: number[];
  [Symbol.asyncDispose](): Promise<void>;
}

/** A ws server that echoes every message and records paths, messages and close codes. */
async function startWsEcho(): Promise<WsEcho> {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  const echo: Omit<WsEcho, 'port' | typeof Symbol.asyncDispose> = {
    paths: [],
    received: [],
    closes: [],
  };
  server.on('connection', (ws, request) => {
    echo.paths.push(request.url ?? '');
    ws.on('error', () => {});
    ws.on('message', (data) => {
      echo.received.push(String(data));
      ws.send(String(data));
    });
    ws.on('close', (code) => echo.closes.push(code));
  });
  const port = await listen(server);
  return {
    ...echo,
    port,
    [Symbol.asyncDispose]: async () => {
      for (const ws of server.clients) ws.terminate();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

function openWs(url: string) {
  const ws = new WebSocket(url);
  const messages: string[] = [];
  const state = { opened: false, error: undefined as Error | undefined };
  ws.on('open', () => (state.opened = true));
  ws.on('message', (data) => messages.push(String(data)));
  ws.on('error', (error) => (state.error = error));
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  const opened = new Promise<void>((resolve) => ws.once('open', () => resolve()));
  return { ws, messages, state, closed, opened };
}

describe('the fault proxy in front of a WebSocket server', () => {
  it('passes messages both ways on the path asked for', async () => {
    await using server = await startWsEcho();
    await using proxy = await startFaultProxy({ upstreamPort: server.port });
    expect(proxy.url()).toBe(`ws://127.0.0.1:${proxy.port}/graphql`);
    const client = openWs(proxy.url('/graphql'));
    await client.opened;
    client.ws.send('hi');
    await until(() => expect(client.messages).toEqual(['hi']));
    expect(server.paths).toEqual(['/graphql']);
    client.ws.close(1000);
    expect(await client.closed).toBe(1000);
    await until(() => expect(server.closes).toEqual([1000]));
  });

  it('reset(): both sides see an abnormal close (1006)', async () => {
    await using server = await startWsEcho();
    await using proxy = await startFaultProxy({ upstreamPort: server.port });
    const client = openWs(proxy.url());
    await client.opened;
    proxy.reset();
    expect(await client.closed).toBe(1006);
    await until(() => expect(server.closes).toEqual([1006]));
  });

  it('a partition holds a message; the heal closes with 1006 and the server never saw it', async () => {
    await using server = await startWsEcho();
    await using proxy = await startFaultProxy({ upstreamPort: server.port });
    const client = openWs(proxy.url());
    await client.opened;
    proxy.partition();
    client.ws.send('held');
    await sleep(QUIET_MS);
    expect(server.received).toEqual([]);
    proxy.heal();
    expect(await client.closed).toBe(1006);
    await until(() => expect(server.closes).toEqual([1006]));
    expect([server.received, client.messages]).toEqual([[], []]);
  });

  it('heal({ close: false }) delivers the held messages, a held handshake too', async () => {
    await using server = await startWsEcho();
    await using proxy = await startFaultProxy({ upstreamPort: server.port });
    const first = openWs(proxy.url());
    await first.opened;
    proxy.partition();
    first.ws.send('one');
    const second = openWs(proxy.url());
    await sleep(QUIET_MS);
    expect([server.received, second.state.opened]).toEqual([[], false]);
    proxy.heal({ close: false });
    await second.opened;
    second.ws.send('two');
    await until(() => expect([first.messages, second.messages]).toEqual([['one'], ['two']]));
    first.ws.close();
    second.ws.close();
    await Promise.all([first.closed, second.closed]);
  });

  it('refuse(true): a new WebSocket fails to open', async () => {
    await using server = await startWsEcho();
    await using proxy = await startFaultProxy({ upstreamPort: server.port });
    proxy.refuse(true);
    const client = openWs(proxy.url());
    expect(await client.closed).toBe(1006);
    expect([client.state.opened, client.state.error !== undefined]).toEqual([false, true]);
    expect(server.paths).toEqual([]);
  });
});

/** Dials, pings and hangs up again and again until stopped, whatever the faults. */
async function traffic(port: number, stopped: () => boolean): Promise<number> {
  let answered = 0;
  while (!stopped()) {
    const client = dial(port);
    client.socket.write('ping');
    const deadline = performance.now() + 200;
    while (!client.state.closed && client.received() !== 'ping' && performance.now() < deadline) {
      await sleep(2);
    }
    if (client.received() === 'ping') answered++;
    client.socket.destroy();
    await client.closed;
  }
  return answered;
}

describe('chaos', () => {
  const options = {
    intervalMs: 6,
    partitionMs: [5, 15] as const,
    latencyMs: [1, 10] as const,
  };

  async function run(proxy: FaultProxy, seed: number, faults: number): Promise<string[]> {
    let stopped = false;
    const load = traffic(proxy.port, () => stopped);
    const chaos = startChaos(proxy, { ...options, random: seededRandom(seed) });
    await until(() => expect(chaos.log.length).toBeGreaterThanOrEqual(faults));
    await chaos.stop();
    stopped = true;
    await load;
    return chaos.log.slice(0, faults);
  }

  for (const seed of seedsFromEnv(2)) {
    it(`the same seed gives the same faults, and stop() leaves a healthy proxy (seed ${seed})`, () =>
      withSeed(seed, async () => {
        await using echo = await startEcho();
        await using proxy = await startFaultProxy({ upstreamPort: echo.port });
        const first = await run(proxy, seed, 8);
        expect(await run(proxy, seed, 8)).toEqual(first);
        expect(await run(proxy, seed + 1000, 8)).not.toEqual(first);
        expect([proxy.partitioned, proxy.refusing, proxy.latency.ms]).toEqual([false, false, 0]);
        const client = dial(proxy.port);
        client.socket.write('healthy');
        await until(() => expect(client.received()).toBe('healthy'));
      }));
  }

  it('stop() in the middle of a partition heals it, closing the held connections', async () => {
    await using echo = await startEcho();
    await using proxy = await startFaultProxy({ upstreamPort: echo.port });
    const client = dial(proxy.port);
    await until(() => expect(echo.sockets.size).toBe(1));
    const chaos = startChaos(proxy, {
      random: seededRandom(1),
      intervalMs: 2,
      faults: ['partition'],
      partitionMs: [60_000, 60_000],
    });
    await until(() => expect(proxy.partitioned).toBe(true));
    await chaos.stop();
    expect(proxy.partitioned).toBe(false);
    await client.closed;
    expect(chaos.log).toEqual([expect.stringMatching(/^#1 \+\d+ms partition 60000ms$/), 'stop']);
  });
});

describe('seeded randomness', () => {
  it('gives the same numbers in [0, 1) for the same seed, others for another', () => {
    const draw = (seed: number) => Array.from({ length: 100 }, seededRandom(seed));
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
    expect(draw(42).every((x) => x >= 0 && x < 1)).toBe(true);
  });

  it('int() covers both ends of its range, and pick() every element', () => {
    const random = seededRandom(9);
    const ints = new Set(Array.from({ length: 500 }, () => int(random, 3, 6)));
    expect([...ints].sort()).toEqual([3, 4, 5, 6]);
    const picks = new Set(Array.from({ length: 500 }, () => pick(random, ['a', 'b', 'c'])));
    expect([...picks].sort()).toEqual(['a', 'b', 'c']);
    expect(() => pick(random, [])).toThrow(RangeError);
  });

  it('seedsFromEnv() reads SEEDS, SEED_START and SEED', () => {
    expect(seedsFromEnv(3, 'SEEDS', 'SEED_START', {})).toEqual([1, 2, 3]);
    expect(seedsFromEnv(3, 'SEEDS', 'SEED_START', { SEEDS: '5' })).toEqual([1, 2, 3, 4, 5]);
    expect(seedsFromEnv(3, 'SEEDS', 'SEED_START', { SEEDS: '2', SEED_START: '10' })).toEqual([
      10, 11,
    ]);
    expect(seedsFromEnv(3, 'SEEDS', 'SEED_START', { SEED: '1234', SEEDS: '9' })).toEqual([1234]);
    expect(() => seedsFromEnv(3, 'SEEDS', 'SEED_START', { SEEDS: 'many' })).toThrow(/SEEDS/);
  });

  it('withSeed() names the failing seed and how to rerun it, keeping the cause', async () => {
    expect(await withSeed(5, (seed) => seed * 2)).toBe(10);
    const original = new Error('boom');
    const failure = await withSeed(7, () => Promise.reject(original)).catch((e: Error) => e);
    expect(failure.message).toBe(
      'seed 7 failed (rerun: SEED=7 npx vitest run test/fault-proxy.test.ts): boom',
    );
    expect(failure.cause).toBe(original);
  });
});
