/**
 * The HTTP side of a shutdown that stops: once it begins, new requests get 503 with
 * `Connection: close`, WebSocket upgrades are refused with 503, idle keep-alive
 * connections close at once and busy ones after their response; `close` stops listening
 * once the connections of before are gone, and `destroyAll` cuts what is left when the
 * time is up.
 */
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

/** What a request or operation refused during a shutdown is told (request-guards.ts too). */
export const SHUTTING_DOWN_MESSAGE =
  'The gateway is shutting down; retry (on another gateway) shortly';

const SHUTTING_DOWN = JSON.stringify({
  errors: [{ message: SHUTTING_DOWN_MESSAGE, extensions: { code: 'SHUTTING_DOWN' } }],
});

function refuseRequest(res: ServerResponse): void {
  res.writeHead(503, {
    'content-type': 'application/json',
    connection: 'close',
    'retry-after': '1',
  });
  res.end(SHUTTING_DOWN);
}

function refuseUpgrade(socket: Duplex): void {
  const head = [
    'HTTP/1.1 503 Service Unavailable',
    'Connection: close',
    'Content-Type: application/json',
    'Retry-After: 1',
    `Content-Length: ${Buffer.byteLength(SHUTTING_DOWN)}`,
  ];
  socket.end(`${head.join('\r\n')}\r\n\r\n${SHUTTING_DOWN}`);
}

type UpgradeListener = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

export class HttpShutdown {
  private closing = false;
  /** Every open connection, and when it closes. */
  private readonly sockets = new Map<Duplex, Promise<void>>();
  /** The connections open when the shutdown began. */
  private before: Duplex[] = [];
  private readonly busy = new Set<ServerResponse>();
  private closed: Promise<void> | undefined;

  constructor(private readonly server: Server) {
    server.on('connection', (socket: Duplex) => {
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      this.sockets.set(socket, closed);
      void closed.then(() => this.sockets.delete(socket));
    });
  }

  get stopping(): boolean {
    return this.closing;
  }

  /** The request listener, refusing once closing and closing busy connections after their response. */
  handle(listener: RequestListener): RequestListener {
    return (req, res) => {
      if (this.closing) return refuseRequest(res);
      this.busy.add(res);
      res.once('close', () => this.busy.delete(res));
      res.once('finish', () => this.afterResponse());
      listener(req, res);
    };
  }

  /**
   * Puts one listener in front of the server's `upgrade` listeners (graphql-ws's): once
   * closing, an upgrade is answered 503 and never reaches them.
   */
  guardUpgrades(): void {
    const listeners = this.server.listeners('upgrade') as UpgradeListener[];
    this.server.removeAllListeners('upgrade');
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (this.closing) return refuseUpgrade(socket);
      for (const listener of listeners) listener.call(this.server, req, socket, head);
    });
  }

  /**
   * From now on every request and upgrade is refused (the port stays open, so that new
   * connections hear 503 rather than a refusal until `close`); idle connections close now,
   * busy ones after their response.
   */
  begin(): void {
    this.closing = true;
    this.before = [...this.sockets.keys()];
    for (const res of this.busy) if (!res.headersSent) res.setHeader('connection', 'close');
    this.server.closeIdleConnections();
  }

  /**
   * Once the connections open at `begin` are gone (answered, or cut), stops listening (new
   * connections are answered 503 until then); resolves once every connection is gone.
   */
  close(): Promise<void> {
    const before = this.before.map((socket) => this.sockets.get(socket));
    return (this.closed ??= Promise.all(before).then(
      () => new Promise<void>((resolve) => this.server.close(() => resolve())),
    ));
  }

  /** Cuts every connection, WebSockets included. */
  destroyAll(): void {
    this.server.closeAllConnections();
    for (const socket of this.sockets.keys()) socket.destroy();
  }

  /** A response sent before the shutdown began may leave its connection idle: close it. */
  private afterResponse(): void {
    if (this.closing) setImmediate(() => this.server.closeIdleConnections());
  }
}
