/**
 * The app's one connection to the gateway, shared by all its sync sessions: keep-alive with a
 * pong timeout, connect and handshake timeouts, unlimited retries with capped exponential
 * backoff and jitter, the token asked for again at every connection, reconnecting at once on
 * `online` events and on `reconnect()`. See connection.ts for how.
 */
import type { Client } from 'graphql-ws';
import { DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
import { Connection, type LiveHandle, type LiveSink } from './connection.js';
import type { ConnectionState } from './connection-state.js';
import type { SyncClientError } from './errors.js';
import type { TypedDocumentString } from './gql/graphql.js';

export type { ConnectionState };

export interface AppOptions {
  /** The gateway's graphql-ws URL, e.g. ws://localhost:4000/graphql. */
  url: string;
  /** A token, or a function giving a fresh one at every (re)connection. */
  token?: string | (() => string | Promise<string>);
  /** The WebSocket class, where there is no global one (Node < 22: the `ws` package). */
  webSocketImpl?: unknown;
  backoff?: BackoffOptions;
  /** How often to ping the gateway (default 10 s). */
  keepAliveMs?: number;
  /** How long a ping may wait for its pong before the link counts as dead (default keepAliveMs). */
  pongTimeoutMs?: number;
  /** How long opening the socket may take (default keepAliveMs). */
  connectTimeoutMs?: number;
  /** How long the gateway may take to accept the connection (default keepAliveMs). */
  handshakeTimeoutMs?: number;
  /** Reconnect at once on the platform's `online` event (default true; browsers have it). */
  reconnectOnOnline?: boolean;
}

type Listener = (previous: ConnectionState, current: ConnectionState) => void;

export class App {
  private readonly connection: Connection;
  private readonly sessionIds = new Set<string>();

  constructor(private readonly options: AppOptions) {
    const keepAliveMs = options.keepAliveMs ?? 10_000;
    this.connection = new Connection({
      url: options.url,
      webSocketImpl: options.webSocketImpl,
      token: () => this.token(),
      sessionIds: () => [...this.sessionIds],
      backoff: options.backoff ?? DEFAULT_BACKOFF,
      keepAliveMs,
      pongTimeoutMs: options.pongTimeoutMs ?? keepAliveMs,
      connectTimeoutMs: options.connectTimeoutMs ?? keepAliveMs,
      handshakeTimeoutMs: options.handshakeTimeoutMs ?? keepAliveMs,
      reconnectOnOnline: options.reconnectOnOnline ?? true,
    });
  }

  get connectionState(): ConnectionState {
    return this.connection.state;
  }

  /** When the connection will be tried next, while it waits in backoff; else null. */
  get nextRetryAt(): Date | null {
    return this.connection.retryAt;
  }

  /**
   * The graphql-ws client of the current connection (null between connections).
   * @deprecated Each connection has its own client now; use `request` and `subscribe`.
   */
  get client(): Client | null {
    return this.connection.current;
  }

  /** Resets every backoff timer and connects now if waiting to. */
  reconnect(): void {
    this.connection.reconnect();
  }

  /** Drops the connection and connects again at once (asked for by the gateway). */
  restartConnection(): void {
    this.connection.restart();
  }

  onConnectionChange(listener: Listener): () => void {
    return this.connection.onState(listener);
  }

  /** Connection-level failures (credentials refused); sessions forward them to their handler. */
  onError(listener: (error: SyncClientError) => void): () => void {
    return this.connection.onError(listener);
  }

  /** Declares a session in the connection's parameters (used from the next connection). */
  declareSession(id: string): void {
    this.sessionIds.add(id);
  }

  /**
   * One typed operation, sent once connected; rejects with the gateway's error code, with
   * ConnectionLostError if the connection drops first, with CancelledError on `signal`.
   */
  request<R, V>(
    document: TypedDocumentString<R, V>,
    variables: V,
    signal?: AbortSignal,
  ): Promise<R> {
    const payload = { query: document.toString(), variables: variables as Record<string, unknown> };
    return this.connection.request<R>(payload, signal);
  }

  /**
   * A typed subscription, sent again on every new connection with `variables(epoch)` computed
   * then (values carry the epoch of the sending they came on); returns the handle that stops it.
   */
  follow<R, V>(
    document: TypedDocumentString<R, V>,
    variables: (epoch: number) => V,
    sink: LiveSink<R>,
  ): LiveHandle {
    const vars = variables as (epoch: number) => Record<string, unknown>;
    return this.connection.follow(document.toString(), vars, sink);
  }

  /** A typed subscription with fixed variables (see `follow`); returns the function that ends it. */
  subscribe<R, V>(
    document: TypedDocumentString<R, V>,
    variables: V,
    sink: { next: (data: R) => void; error: (e: unknown) => void; complete?: () => void },
  ): () => void {
    const handle = this.follow(document, () => variables, {
      next: (data) => sink.next(data),
      error: sink.error,
      complete: () => sink.complete?.(),
    });
    return handle.stop;
  }

  async close(): Promise<void> {
    await this.connection.close();
  }

  private async token(): Promise<string | undefined> {
    const token = this.options.token;
    return typeof token === 'function' ? token() : token;
  }
}
