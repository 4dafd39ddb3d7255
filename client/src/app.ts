/**
 * The app's one graphql-ws connection to the gateway, shared by all its sync sessions:
 * keep-alive on, unlimited retries with capped exponential backoff and jitter, the token
 * asked for again at every connection, and `reconnect()` to skip the backoff.
 */
import { createClient, type Client } from 'graphql-ws';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
import { fromGraphQLErrors } from './errors.js';
import type { TypedDocumentString } from './gql/graphql.js';

export type ConnectionState = 'DISCONNECTED' | 'CONNECTING' | 'CONNECTED';

export interface AppOptions {
  /** The gateway's graphql-ws URL, e.g. ws://localhost:4000/graphql. */
  url: string;
  /** A token, or a function giving a fresh one at every (re)connection. */
  token?: string | (() => string | Promise<string>);
  /** The WebSocket class, where there is no global one (Node < 22: the `ws` package). */
  webSocketImpl?: unknown;
  backoff?: BackoffOptions;
  keepAliveMs?: number;
}

type Listener = (previous: ConnectionState, current: ConnectionState) => void;

export class App {
  readonly client: Client;
  private state: ConnectionState = 'DISCONNECTED';
  private readonly listeners = new Set<Listener>();
  private readonly sessionIds = new Set<string>();
  private retryAt: Date | null = null;
  private skipWait: (() => void) | null = null;
  private resetBackoff = false;

  constructor(private readonly options: AppOptions) {
    this.client = createClient({
      url: options.url,
      webSocketImpl: options.webSocketImpl,
      lazy: false,
      keepAlive: options.keepAliveMs ?? 10_000,
      retryAttempts: Number.POSITIVE_INFINITY,
      shouldRetry: () => true,
      retryWait: (retries) => this.waitBeforeRetry(retries),
      connectionParams: async () => ({
        authToken: await this.token(),
        sessionIds: [...this.sessionIds],
      }),
      on: {
        connecting: () => this.setState('CONNECTING'),
        connected: () => this.setState('CONNECTED'),
        closed: () => this.setState('DISCONNECTED'),
      },
    });
  }

  get connectionState(): ConnectionState {
    return this.state;
  }

  /** When the connection will be tried next, while it waits in backoff; else null. */
  get nextRetryAt(): Date | null {
    return this.retryAt;
  }

  /** Resets every backoff timer and reconnects now if waiting to. */
  reconnect(): void {
    this.resetBackoff = true;
    this.skipWait?.();
  }

  /** Drops the connection and connects again at once (asked for by the gateway). */
  restartConnection(): void {
    this.resetBackoff = true;
    this.client.terminate();
  }

  onConnectionChange(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Declares a session in the connection's parameters (used from the next connection). */
  declareSession(id: string): void {
    this.sessionIds.add(id);
  }

  /** One typed operation; rejects with the gateway's error code. */
  request<R, V>(document: TypedDocumentString<R, V>, variables: V): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      let result: R | undefined;
      this.client.subscribe<R>(
        { query: document.toString(), variables: variables as Record<string, unknown> },
        {
          next: (value) => {
            if (value.errors?.length) reject(fromGraphQLErrors(value.errors));
            else result = value.data as R;
          },
          error: reject,
          complete: () => (result === undefined ? reject(new Error('no result')) : resolve(result)),
        },
      );
    });
  }

  /** A typed subscription; returns the function that ends it. */
  subscribe<R, V>(
    document: TypedDocumentString<R, V>,
    variables: V,
    sink: { next: (data: R) => void; error: (e: unknown) => void; complete?: () => void },
  ): () => void {
    return this.client.subscribe<R>(
      { query: document.toString(), variables: variables as Record<string, unknown> },
      {
        next: (value) =>
          value.errors?.length
            ? sink.error(fromGraphQLErrors(value.errors))
            : sink.next(value.data as R),
        error: sink.error,
        complete: () => sink.complete?.(),
      },
    );
  }

  async close(): Promise<void> {
    this.skipWait?.();
    await this.client.dispose();
  }

  private async token(): Promise<string | undefined> {
    const token = this.options.token;
    return typeof token === 'function' ? token() : token;
  }

  private setState(next: ConnectionState): void {
    const previous = this.state;
    if (previous === next) return;
    this.state = next;
    if (next === 'CONNECTED') this.retryAt = null;
    for (const listener of this.listeners) listener(previous, next);
  }

  private async waitBeforeRetry(retries: number): Promise<void> {
    const attempt = this.resetBackoff ? 0 : retries;
    this.resetBackoff = false;
    const delay = backoffDelay(attempt, this.options.backoff ?? DEFAULT_BACKOFF);
    this.retryAt = new Date(Date.now() + delay);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, delay);
      this.skipWait = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.skipWait = null;
    this.retryAt = null;
  }
}
