/**
 * The fan-out floor: a bare graphql-ws server (graphql-ws's `makeServer` on `ws`: its
 * handshake, pings and completes) that executes no GraphQL. It answers the bench's
 * `openSession` and `uploadChanges` with canned results and keeps every `changes`
 * subscription; each upload becomes one `next` message, serialized once (per distinct
 * subscription id: the bench's clients all use id 2) and sent as those bytes to every socket.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { handleProtocols, makeServer, MessageType } from 'graphql-ws';
import { WebSocketServer, type WebSocket } from 'ws';

interface Subscribe {
  id: string;
  type: string;
  payload?: { query?: string; variables?: Record<string, unknown> };
}

interface Upload {
  changesets: { clientVersion: number; changes: Record<string, unknown>[] }[];
}

class Broadcast {
  private readonly streams = new Map<WebSocket, Set<string>>();
  private version = 0;
  private sessions = 0;

  /** Handles the bench's operations; false: not ours, graphql-ws handles the message. */
  intercept(socket: WebSocket, text: string): boolean {
    const message = JSON.parse(text) as Subscribe;
    if (message.type === MessageType.Complete) this.streams.get(socket)?.delete(message.id);
    if (message.type !== MessageType.Subscribe) return false;
    const query = message.payload?.query ?? '';
    if (query.includes('openSession')) this.reply(socket, message.id, this.openSession());
    else if (query.includes('uploadChanges')) this.upload(socket, message);
    else if (query.includes('changes(')) this.follow(socket, message.id);
    else this.reply(socket, message.id, { __typename: 'Query' });
    return true;
  }

  drop(socket: WebSocket): void {
    this.streams.delete(socket);
  }

  private openSession() {
    return { openSession: { id: `floor-session-${++this.sessions}` } };
  }

  private reply(socket: WebSocket, id: string, data: unknown): void {
    socket.send(JSON.stringify({ id, type: MessageType.Next, payload: { data } }));
    socket.send(JSON.stringify({ id, type: MessageType.Complete }));
  }

  private follow(socket: WebSocket, id: string): void {
    const ids = this.streams.get(socket) ?? new Set<string>();
    this.streams.set(socket, ids.add(id));
    const batch = { changes: { toServerVersion: this.version, changes: [] } };
    socket.send(JSON.stringify({ id, type: MessageType.Next, payload: { data: batch } }));
  }

  private upload(socket: WebSocket, message: Subscribe): void {
    const { changesets } = message.payload!.variables as unknown as Upload;
    const first = changesets[0]!;
    const serverVersion = ++this.version;
    const ack = { lastIntegratedClientVersion: first.clientVersion, serverVersion };
    this.reply(socket, message.id, { uploadChanges: { ...ack, compensatingWrites: [] } });
    const changes = first.changes.map((change) => ({ serverVersion, ...change }));
    this.send({ changes: { toServerVersion: serverVersion, changes } });
  }

  /** One serialization per distinct subscription id, the same bytes to every socket. */
  private send(data: unknown): void {
    const messages = new Map<string, Buffer>();
    const payload = JSON.stringify({ data });
    for (const [socket, ids] of this.streams) {
      for (const id of ids) {
        let bytes = messages.get(id);
        if (bytes === undefined) {
          bytes = Buffer.from(`{"id":${JSON.stringify(id)},"type":"next","payload":${payload}}`);
          messages.set(id, bytes);
        }
        socket.send(bytes, { binary: false });
      }
    }
  }
}

function attach(socket: WebSocket, broadcast: Broadcast, server: ReturnType<typeof makeServer>) {
  let handle: ((data: string) => Promise<void>) | null = null;
  const closed = server.opened(
    {
      protocol: socket.protocol,
      send: (data) => socket.send(data),
      close: (code, reason) => socket.close(code, reason),
      onMessage: (cb) => (handle = cb),
    },
    {},
  );
  socket.on('message', (raw) => {
    const text = String(raw);
    if (!broadcast.intercept(socket, text)) void handle?.(text).catch(() => socket.close(4500));
  });
  socket.once('close', (code, reason) => {
    broadcast.drop(socket);
    void closed(code, String(reason));
  });
}

/** Starts the floor on 127.0.0.1, a free port; returns its ws URL. */
export async function startFanoutFloor(): Promise<string> {
  const http = createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({
    server: http,
    path: '/graphql',
    handleProtocols: (protocols) => handleProtocols(protocols) || false,
  });
  const server = makeServer({});
  const broadcast = new Broadcast();
  wss.on('connection', (socket) => attach(socket, broadcast, server));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return `ws://127.0.0.1:${(http.address() as AddressInfo).port}/graphql`;
}
