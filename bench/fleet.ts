/**
 * The processes of the fan-out and memory scenarios: one server process (the gateway or a
 * floor, with --expose-gc) and client processes holding the sockets, at most
 * SOCKETS_PER_PROCESS each, so that neither shares an event loop with the other.
 */
import { readFileSync } from 'node:fs';
import { Child, forkScript } from './child.js';
import type {
  FanCommand,
  FanReply,
  Receiver,
  ServerCommand,
  ServerMode,
  ServerReply,
  SocketKind,
} from './fanout-protocol.js';
import { ensureFileLimit } from './file-limit.js';
import { benchToken } from './gateway.js';
import { monoMs } from './mono-clock.js';

const SOCKETS_PER_PROCESS = 5000;
/** File descriptors a process needs besides its sockets (the gateway: about 32, for stdio, IPC, SQLite, epoll...). */
const SPARE_FILES = 100;

export type ServerProcess = Child<ServerCommand, ServerReply>;
export type ClientsProcess = Child<FanCommand, FanReply>;

export interface Fleet {
  server: ServerProcess;
  wsUrl: string;
  clients: ClientsProcess[];
  stop(): Promise<void>;
}

/**
 * The server process, with room for `sockets` open sockets: at the default `ulimit -n`
 * (often 20,000, or 1,024), a gateway holding 20k sockets runs out of file descriptors and
 * the sockets past the limit are accepted and closed at once by libuv, unseen by the server.
 */
/**
 * The node flags `npm start` runs the gateway with (package.json's start script), given to the
 * server process, gateway and floor alike; BENCH_SERVER_FLAGS replaces them (empty: none).
 */
function serverFlags(): string[] {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    scripts: { start: string };
  };
  const fromStart = /^exec node ((?:--\S+ )*)scripts\/start\.mjs$/.exec(pkg.scripts.start)?.[1];
  if (fromStart === undefined)
    throw new Error('package.json: start is not `exec node … scripts/start.mjs`');
  return (process.env.BENCH_SERVER_FLAGS ?? fromStart).split(' ').filter(Boolean);
}

export const SERVER_FLAGS = serverFlags();

async function startServer(
  mode: ServerMode,
  sockets: number,
): Promise<{ server: ServerProcess; wsUrl: string }> {
  const url = new URL('./server-proc.ts', import.meta.url);
  const nodeFlags = ['--expose-gc', ...SERVER_FLAGS];
  const server: ServerProcess = new Child(forkScript(url, { nodeFlags }), mode);
  try {
    try {
      ensureFileLimit(server.pid, sockets + SPARE_FILES, mode);
    } catch (error) {
      const hint = 'or hold two sessions per socket: BENCH_FANOUT_SESSIONS_PER_SOCKET=2';
      throw new Error(`${(error as Error).message}, ${hint}`);
    }
    const { wsUrl } = await server.call({ type: 'start', mode }, 'started');
    return { server, wsUrl };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

/** Client processes for `sessions` sessions held on `sockets` sockets. */
function startClients(sockets: number, sessions: number): ClientsProcess[] {
  const url = new URL('./fanout-client-proc.ts', import.meta.url);
  const count = Math.max(1, Math.ceil(sessions / SOCKETS_PER_PROCESS));
  const per = Math.ceil(sockets / count);
  return Array.from({ length: count }, (_, i) => {
    const client: ClientsProcess = new Child(
      forkScript(url, { serialization: 'advanced' }),
      `clients ${i + 1}`,
    );
    ensureFileLimit(client.pid, per + SPARE_FILES, client.name);
    return client;
  });
}

/**
 * The server and the client processes for `sockets` sockets, holding `sessions` sessions
 * (more than one per socket: BENCH_FANOUT_SESSIONS_PER_SOCKET); one client process per
 * SOCKETS_PER_PROCESS sessions.
 */
export async function startFleet(
  mode: ServerMode,
  sockets: number,
  sessions = sockets,
): Promise<Fleet> {
  const { server, wsUrl } = await startServer(mode, sockets);
  const clients: ClientsProcess[] = [];
  // Closes the sockets of the idle clients (a busy one is stopped as it is), then stops all.
  const stop = async () => {
    const idle = clients.filter((c) => !c.busy);
    await Promise.all(idle.map((c) => c.call({ type: 'close' }, 'closed').catch(() => null)));
    await Promise.all([...clients, server].map((c) => c.stop()));
  };
  try {
    clients.push(...startClients(sockets, sessions));
  } catch (error) {
    await stop();
    throw error;
  }
  return { server, wsUrl, clients, stop };
}

/** Users `prefix-0`..: one token each (a floor ignores them). */
export async function receivers(prefix: string, from: number, count: number): Promise<Receiver[]> {
  const ids = Array.from({ length: count }, (_, i) => `${prefix}-${from + i}`);
  return Promise.all(ids.map(async (userId) => ({ userId, token: await benchToken(userId) })));
}

export interface ConnectOptions {
  /** Sessions sharing one socket; default 1. */
  sessionsPerSocket?: number;
  /** Sessions acknowledge each batch as the SDK does. */
  ack?: boolean;
}

/** Splits the receivers over the client processes; resolves when all are set up, in seconds. */
export async function connectAll(
  fleet: Fleet,
  kind: SocketKind,
  all: Receiver[],
  measureFrom = 0,
  options: ConnectOptions = {},
): Promise<number> {
  const perSocket = options.sessionsPerSocket ?? 1;
  // Whole sockets per process.
  const per = Math.ceil(all.length / fleet.clients.length / perSocket) * perSocket;
  const start = monoMs();
  await Promise.all(
    fleet.clients.map((client, i) => {
      const mine = all.slice(i * per, (i + 1) * per);
      const command: FanCommand = {
        type: 'connect',
        wsUrl: fleet.wsUrl,
        kind,
        receivers: mine,
        measureFrom,
        ...options,
      };
      return client.call(command, 'connected');
    }),
  );
  return (monoMs() - start) / 1000;
}

/** Closes every client socket (the processes stay for another round). */
export async function closeAll(fleet: Fleet): Promise<void> {
  await Promise.all(fleet.clients.map((c) => c.call({ type: 'close' }, 'closed')));
}
