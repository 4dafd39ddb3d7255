/**
 * A bare graphql-ws (graphql-transport-ws) socket for tests that must choose exactly what
 * goes on the wire: subscribe and complete messages sent at once, in the order given, with
 * no client library queueing, retrying or completing anything by itself.
 */
import WebSocket from 'ws';
import type { GqlResult } from './gateway.js';

export interface RawOutcome {
  /** The `next` payloads, in order. */
  next: GqlResult[];
  /** The `error` message's payload, if the operation ended with one. */
  errors: { message: string; extensions?: Record<string, unknown> }[] | null;
}

interface Pending {
  outcome: RawOutcome;
  done: (outcome: RawOutcome) => void;
  ended: Promise<RawOutcome>;
  listeners: (() => void)[];
}

export class RawGraphqlWs {
  private readonly pending = new Map<string, Pending>();
  /** Every message that ended an operation (complete or error), in arrival order. */
  readonly endedIds: string[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly socket: WebSocket) {
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) =>
      socket.once('close', (code, reason) => resolve({ code, reason: String(reason) })),
    );
    socket.on('message', (data) => this.receive(String(data)));
  }

  /** Opens a socket and waits for its connection_ack. */
  static async open(url: string, token: string): Promise<RawGraphqlWs> {
    const socket = new WebSocket(url, 'graphql-transport-ws');
    const raw = new RawGraphqlWs(socket);
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    const acked = new Promise<void>((resolve, reject) => {
      socket.on('message', (data) => {
        if ((JSON.parse(String(data)) as { type: string }).type === 'connection_ack') resolve();
      });
      void raw.closed.then(({ code }) => reject(new Error(`closed before the ack: ${code}`)));
    });
    socket.send(JSON.stringify({ type: 'connection_init', payload: { authToken: token } }));
    await acked;
    return raw;
  }

  /** Sends a subscribe message; `ended(id)` resolves on its complete or error message. */
  subscribe(id: string, query: string, variables: Record<string, unknown> = {}): void {
    this.track(id);
    this.socket.send(JSON.stringify({ type: 'subscribe', id, payload: { query, variables } }));
  }

  /** Resolves once what was sent has left this process (the socket buffers at most `bytes`). */
  async drained(bytes = 0): Promise<void> {
    while (this.socket.bufferedAmount > bytes && this.socket.readyState === WebSocket.OPEN) {
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }

  complete(id: string): void {
    this.socket.send(JSON.stringify({ type: 'complete', id }));
  }

  ended(id: string): Promise<RawOutcome> {
    return this.track(id).ended;
  }

  /** What the operation received so far (it may still run). */
  outcome(id: string): RawOutcome {
    return this.track(id).outcome;
  }

  /** Resolves once the operation has received at least one `next`. */
  firstNext(id: string): Promise<void> {
    const pending = this.track(id);
    if (pending.outcome.next.length > 0) return Promise.resolve();
    return new Promise((resolve) => pending.listeners.push(resolve));
  }

  close(): void {
    this.socket.terminate();
  }

  private track(id: string): Pending {
    let pending = this.pending.get(id);
    if (!pending) {
      let done!: (outcome: RawOutcome) => void;
      const ended = new Promise<RawOutcome>((resolve) => (done = resolve));
      const outcome: RawOutcome = { next: [], errors: null };
      pending = { outcome, done, ended, listeners: [] };
      this.pending.set(id, pending);
    }
    return pending;
  }

  private receive(data: string): void {
    const message = JSON.parse(data) as { type: string; id?: string; payload?: unknown };
    if (message.id === undefined) return;
    const pending = this.track(message.id);
    if (message.type === 'next') {
      pending.outcome.next.push(message.payload as GqlResult);
      for (const listener of pending.listeners.splice(0)) listener();
    } else if (message.type === 'error' || message.type === 'complete') {
      if (message.type === 'error')
        pending.outcome.errors = message.payload as RawOutcome['errors'];
      this.endedIds.push(message.id);
      pending.done(pending.outcome);
    }
  }
}
