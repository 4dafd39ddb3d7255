/**
 * The processes of the fan-out and memory scenarios: one server process (the gateway or a
 * floor, with --expose-gc) and client processes holding the sockets, at most
 * SOCKETS_PER_PROCESS each, so that neither shares an event loop with the other.
 */
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
import { benchToken } from './gateway.js';
import { monoMs } from './mono-clock.js';

const SOCKETS_PER_PROCESS = 5000;

export type ServerProcess = Child<ServerCommand, ServerReply>;
export type ClientsProcess = Child<FanCommand, FanReply>;

export interface Fleet {
  server: ServerProcess;
  wsUrl: string;
  clients: ClientsProcess[];
  stop(): Promise<void>;
}

async function startServer(mode: ServerMode): Promise<{ server: ServerProcess; wsUrl: string }> {
  const url = new URL('./server-proc.ts', import.meta.url);
  const server: ServerProcess = new Child(forkScript(url, { nodeFlags: ['--expose-gc'] }), mode);
  const { wsUrl } = await server.call({ type: 'start', mode }, 'started');
  return { server, wsUrl };
}

function startClients(sockets: number): ClientsProcess[] {
  const url = new URL('./fanout-client-proc.ts', import.meta.url);
  const count = Math.max(1, Math.ceil(sockets / SOCKETS_PER_PROCESS));
  return Array.from(
    { length: count },
    (_, i) => new Child(forkScript(url, { serialization: 'advanced' }), `clients ${i + 1}`),
  );
}

export async function startFleet(mode: ServerMode, sockets: number): Promise<Fleet> {
  const { server, wsUrl } = await startServer(mode);
  const clients = startClients(sockets);
  const stop = async () => {
    await Promise.all(clients.map((c) => c.call({ type: 'close' }, 'closed').catch(() => null)));
    await Promise.all([...clients, server].map((c) => c.stop()));
  };
  return { server, wsUrl, clients, stop };
}

/** Users `prefix-0`..: one token each (a floor ignores them). */
export async function receivers(prefix: string, from: number, count: number): Promise<Receiver[]> {
  const ids = Array.from({ length: count }, (_, i) => `${prefix}-${from + i}`);
  return Promise.all(ids.map(async (userId) => ({ userId, token: await benchToken(userId) })));
}

/** Splits the receivers over the client processes; resolves when all are set up, in seconds. */
export async function connectAll(
  fleet: Fleet,
  kind: SocketKind,
  all: Receiver[],
  measureFrom = 0,
): Promise<number> {
  const per = Math.ceil(all.length / fleet.clients.length);
  const start = monoMs();
  await Promise.all(
    fleet.clients.map((client, i) => {
      const mine = all.slice(i * per, (i + 1) * per);
      const command = { type: 'connect', wsUrl: fleet.wsUrl, kind, receivers: mine, measureFrom };
      return client.call(command as FanCommand, 'connected');
    }),
  );
  return (monoMs() - start) / 1000;
}

/** Closes every client socket (the processes stay for another round). */
export async function closeAll(fleet: Fleet): Promise<void> {
  await Promise.all(fleet.clients.map((c) => c.call({ type: 'close' }, 'closed')));
}
