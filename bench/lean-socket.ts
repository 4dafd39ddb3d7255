/**
 * A minimal graphql-ws (graphql-transport-ws) client on `ws`, for holding thousands of
 * sockets in one process cheaply: the handshake, subscribe / next / error / complete, and a
 * fast path for streams that read their events' bytes themselves (no JSON.parse per event).
 * The bench's fan-out clients use it against the gateway and the floors alike.
 */
import WebSocket from 'ws';

interface GraphqlResult {
  data?: Record<string, unknown> | null;
  errors?: readonly { message: string }[];
}

interface ServerMessage {
  id?: string;
  type: string;
  payload?: unknown;
}

export interface Operation {
  /** A `next` without errors, as its raw bytes; when given, `next` is not called for it. */
  raw?: (data: Buffer) => void;
  next?: (result: GraphqlResult) => void;
  error: (error: Error) => void;
  complete?: () => void;
}

const ID_PREFIX = Buffer.from('{"id":"');

/** The operation id of a server message that starts `{"id":"…"`, as graphql-ws writes them. */
function idOf(data: Buffer): string | null {
  if (data.compare(ID_PREFIX, 0, ID_PREFIX.length, 0, ID_PREFIX.length) !== 0) return null;
  const end = data.indexOf(0x22, ID_PREFIX.length); // the closing quote
  return end < 0 ? null : data.toString('latin1', ID_PREFIX.length, end);
}

const NEXT = Buffer.from('"type":"next"');
const ERRORS = Buffer.from('"errors":');
const isCleanNext = (data: Buffer) => data.indexOf(NEXT) >= 0 && data.indexOf(ERRORS) < 0;

export class LeanSocket {
  private nextId = 0;
  private readonly operations = new Map<string, Operation>();
  private readonly closed: Promise<void>;

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => this.receive(data));
    ws.on('error', () => undefined); // a failure shows as the close below
    this.closed = new Promise((resolve) => ws.once('close', () => resolve()));
    void this.closed.then(() => this.failAll(new Error('socket closed')));
  }

  /** Connects and completes the handshake (`connection_init` with the token, `connection_ack`). */
  static open(url: string, token: string): Promise<LeanSocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, 'graphql-transport-ws', { perMessageDeflate: false });
      const fail = (error: Error) => {
        ws.removeAllListeners();
        ws.on('error', () => undefined);
        ws.terminate();
        reject(error);
      };
      ws.once('open', () =>
        ws.send(JSON.stringify({ type: 'connection_init', payload: { authToken: token } })),
      );
      ws.once('error', fail);
      ws.once('close', (code, reason) => fail(new Error(`closed ${code} ${String(reason)}`)));
      ws.once('message', (data: Buffer) => {
        const message = JSON.parse(String(data)) as ServerMessage;
        if (message.type !== 'connection_ack') return fail(new Error(`got ${message.type}`));
        ws.removeAllListeners();
        resolve(new LeanSocket(ws));
      });
    });
  }

  /** Starts an operation; ids are 1, 2, 3... on each socket. */
  subscribe(query: string, variables: Record<string, unknown>, operation: Operation): string {
    const id = String(++this.nextId);
    this.operations.set(id, operation);
    this.ws.send(JSON.stringify({ id, type: 'subscribe', payload: { query, variables } }));
    return id;
  }

  /** A query or mutation: its data; GraphQL errors reject. */
  request(
    query: string,
    variables: Record<string, unknown> = {},
  ): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      this.subscribe(query, variables, {
        next: (result) =>
          result.errors?.length
            ? reject(new Error(`GraphQL: ${result.errors[0]!.message}`))
            : resolve(result.data ?? {}),
        error: reject,
        complete: () => reject(new Error('completed without a result')),
      });
    });
  }

  close(): Promise<void> {
    this.ws.close(1000);
    return this.closed;
  }

  private receive(data: Buffer): void {
    const id = idOf(data);
    const fast = id === null ? undefined : this.operations.get(id)?.raw;
    if (fast && isCleanNext(data)) return fast(data);
    this.dispatch(JSON.parse(data.toString()) as ServerMessage);
  }

  private dispatch(message: ServerMessage): void {
    if (message.type === 'ping') return this.ws.send('{"type":"pong"}');
    const op = message.id === undefined ? undefined : this.operations.get(message.id);
    if (!op) return;
    if (message.type === 'next') return op.next?.(message.payload as GraphqlResult);
    this.operations.delete(message.id!);
    if (message.type === 'complete') op.complete?.();
    else op.error(new Error(`${message.type}: ${JSON.stringify(message.payload).slice(0, 200)}`));
  }

  private failAll(error: Error): void {
    const ops = [...this.operations.values()];
    this.operations.clear();
    for (const op of ops) op.error(error);
  }
}
