/**
 * Drives the connection state machine (connection-state.ts): one graphql-ws client per
 * attempt, so every (re)subscription is sent with variables computed at that moment, and
 * liveness the SDK owns:
 *
 * - a connect timeout (the socket must open) and a handshake timeout (connection_ack);
 * - a pong timeout after each keep-alive ping: a dead link is found within about
 *   keepAliveMs + pongTimeoutMs, not when TCP gives up;
 * - `online` / `offline` events where the platform has them;
 * - requests wait for a connection; one in flight when it drops fails with
 *   ConnectionLostError (the caller retries what it owns);
 * - live subscriptions are sent again on every new connection, each time with fresh
 *   variables, and their sink learns the connection `epoch` of every value;
 * - the token function is asked again at every connection: when the gateway closes an
 *   accepted connection because its token expired (4403), the SDK connects again at once.
 */
import { createClient, type Client } from 'graphql-ws';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
import {
  nextPhase,
  publicState,
  type ConnectionEvent,
  type ConnectionState,
  type Phase,
} from './connection-state.js';
import {
  AppClosedError,
  AuthenticationError,
  CancelledError,
  ConnectionLostError,
  fromGraphQLErrors,
  isCloseEvent,
  SyncClientError,
  toSyncError,
} from './errors.js';

export interface ConnectionOptions {
  url: string;
  webSocketImpl?: unknown;
  token: () => Promise<string | undefined>;
  sessionIds: () => string[];
  backoff: BackoffOptions;
  keepAliveMs: number;
  connectTimeoutMs: number;
  handshakeTimeoutMs: number;
  pongTimeoutMs: number;
  reconnectOnOnline: boolean;
}

export interface LiveSink<R> {
  /** A value, and the epoch of the subscription it came on (each sending has a newer one). */
  next(data: R, epoch: number): void;
  /** A GraphQL error (not a lost connection: the subscription is sent again on the next). */
  error(error: SyncClientError): void;
  /** The gateway ended the subscription. */
  complete?(): void;
}

export interface LiveHandle {
  /** Ends it for good. */
  stop(): void;
  /** Sends it again now (with fresh variables), if connected. */
  restart(): void;
}

interface Live {
  query: string;
  variables: (epoch: number) => Record<string, unknown>;
  sink: LiveSink<unknown>;
  unsubscribe: (() => void) | null;
  /** Identifies the current subscription; values of an older one are dropped. */
  token: object | null;
  stopped: boolean;
}

type Waiter = { resolve: (client: Client) => void; reject: (error: unknown) => void };
type StateListener = (previous: ConnectionState, current: ConnectionState) => void;
type Payload = { query: string; variables: Record<string, unknown> };

type SocketClass = new (...args: never[]) => { on?: (event: string, fn: () => void) => unknown };
const quieted = new WeakMap<object, unknown>();

/**
 * The `ws` package's sockets are event emitters: an 'error' event nobody listens to throws.
 * graphql-ws drops its listener as it terminates a socket still connecting, and `ws` then
 * reports the aborted handshake as an error: always listening keeps that from crashing.
 */
function quiet(impl: unknown): unknown {
  const Base = impl as SocketClass | undefined;
  if (typeof Base !== 'function' || typeof Base.prototype?.on !== 'function') return impl;
  if (!quieted.has(Base)) {
    quieted.set(
      Base,
      class extends Base {
        constructor(...args: never[]) {
          super(...args);
          this.on?.('error', () => undefined); // the close that follows is what counts
        }
      },
    );
  }
  return quieted.get(Base);
}

/** Close codes that say the credentials were refused (graphql-ws Forbidden, Unauthorized). */
const AUTH_CLOSE_CODES = new Set([4401, 4403]);
/**
 * The gateway closes an accepted connection with 4403 when its token expires: the SDK then
 * connects again at once, asking the token function for a fresh one. Only a refusal while
 * connecting (the fresh token refused too) reaches the app, as AuthenticationError.
 */
const TOKEN_EXPIRED_CLOSE_CODE = 4403;
/** The gateway's close code for a user past its sockets cap (MAX_SOCKETS_PER_USER). */
const SOCKET_LIMIT_CLOSE_CODE = 4430;

export class Connection {
  private phase: Phase = { name: 'waiting', attempt: 0 };
  private client: Client | null = null;
  /** Numbers every sending of a live subscription. */
  private epoch = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private connectTimer: ReturnType<typeof setTimeout> | null = null;
  private pongTimer: ReturnType<typeof setTimeout> | null = null;
  private retryAtDate: Date | null = null;
  private readonly lives = new Set<Live>();
  private readonly waiters = new Set<Waiter>();
  private readonly stateListeners = new Set<StateListener>();
  private readonly errorListeners = new Set<(error: SyncClientError) => void>();
  private readonly unlistenPlatform: () => void;

  constructor(private readonly options: ConnectionOptions) {
    this.unlistenPlatform = this.listenToPlatform();
    this.dispatch({ type: 'connect' });
  }

  get state(): ConnectionState {
    return publicState(this.phase);
  }

  get retryAt(): Date | null {
    return this.retryAtDate;
  }

  /** The graphql-ws client of the current connection, if any. */
  get current(): Client | null {
    return this.client;
  }

  onState(listener: StateListener): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  onError(listener: (error: SyncClientError) => void): () => void {
    this.errorListeners.add(listener);
    return () => this.errorListeners.delete(listener);
  }

  /** Forgets the backoff and connects now if waiting to. */
  reconnect(): void {
    if (this.phase.name !== 'waiting') return;
    this.dispatch({ type: 'reset' });
    this.dispatch({ type: 'connect' });
  }

  /** Drops the connection and connects again at once. */
  restart(): void {
    if (this.client) this.kill(this.client, 'restarted');
    this.reconnect();
  }

  /** One operation on the current connection (waiting for one); see the header. */
  async request<R>(payload: Payload, signal?: AbortSignal): Promise<R> {
    if (signal?.aborted) throw new CancelledError();
    const client = await this.connected(signal);
    if (signal?.aborted) throw new CancelledError();
    // A client whose socket closed meanwhile would open a socket of its own: never use it.
    if (client !== this.client) throw new ConnectionLostError();
    return new Promise<R>((resolve, reject) => {
      let result: R | undefined;
      const settle = (finish: () => void) => {
        signal?.removeEventListener('abort', onAbort);
        finish();
      };
      const onAbort = () => settle(() => (unsubscribe(), reject(new CancelledError())));
      const unsubscribe = client.subscribe<R>(payload, {
        next: (value) => {
          if (value.errors?.length) settle(() => reject(fromGraphQLErrors(value.errors!)));
          else result = value.data as R;
        },
        error: (error) => settle(() => reject(toSyncError(error))),
        complete: () => settle(() => this.complete(client, result, resolve, reject)),
      });
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private complete<R>(
    client: Client,
    result: R | undefined,
    resolve: (r: R) => void,
    reject: (e: unknown) => void,
  ) {
    if (result !== undefined) resolve(result);
    else if (client !== this.client) reject(new ConnectionLostError());
    else reject(new SyncClientError('UNKNOWN', 'the gateway answered nothing'));
  }

  /** A subscription kept alive across connections (see LiveSink). */
  follow<R>(
    query: string,
    variables: (epoch: number) => Record<string, unknown>,
    sink: LiveSink<R>,
  ): LiveHandle {
    const live: Live = {
      query,
      variables,
      sink: sink as LiveSink<unknown>,
      unsubscribe: null,
      token: null,
      stopped: false,
    };
    this.lives.add(live);
    if (this.client && this.phase.name === 'connected') this.send(live, this.client);
    return {
      stop: () => this.drop(live),
      restart: () => {
        if (live.stopped) return;
        this.unsubscribe(live);
        if (this.client && this.phase.name === 'connected') this.send(live, this.client);
      },
    };
  }

  async close(): Promise<void> {
    const client = this.client;
    const wasConnected = this.phase.name === 'connected';
    this.dispatch({ type: 'close' });
    if (client && wasConnected) await client.dispose();
    else client?.terminate();
  }

  private dispatch(event: ConnectionEvent): void {
    const before = this.phase;
    const after = nextPhase(before, event);
    if (after === before) return;
    this.phase = after;
    if (after.name === 'connecting' && before.name !== 'connecting') this.open();
    if (after.name === 'connected') this.onConnected();
    if (after.name === 'waiting' && before.name !== 'waiting') this.scheduleRetry(after.attempt);
    if (after.name === 'closed') this.onClosedForGood();
    const [previous, current] = [publicState(before), publicState(after)];
    if (previous !== current)
      for (const listener of this.stateListeners) listener(previous, current);
  }

  private open(): void {
    this.clearTimer('retry');
    this.retryAtDate = null;
    // Handlers may run while createClient is still connecting, before `client` is assigned.
    const attempt: { client: Client | null } = { client: null };
    const mine = () => attempt.client !== null && attempt.client === this.client;
    const { connectTimeoutMs, handshakeTimeoutMs } = this.options;
    const client = createClient({
      ...this.clientOptions(),
      on: {
        // Cut as well as closed: a dead link would keep a graceful close waiting for long.
        opened: () => mine() && this.arm('connect', handshakeTimeoutMs, 'handshake timeout'),
        connected: () => mine() && this.dispatch({ type: 'acknowledged' }),
        ping: (received) =>
          received || (mine() && this.arm('pong', this.options.pongTimeoutMs, 'pong timeout')),
        pong: (received) => received && this.clearTimer('pong'),
        closed: (event) => attempt.client && this.onSocketClosed(attempt.client, event),
      },
    });
    attempt.client = client;
    this.client = client;
    this.arm('connect', connectTimeoutMs, 'connect timeout');
  }

  private clientOptions() {
    const { options } = this;
    return {
      url: options.url,
      webSocketImpl: quiet(options.webSocketImpl),
      lazy: false,
      retryAttempts: 0,
      // graphql-ws retries a socket closed with 1000 by itself: this client never does.
      retryWait: () => new Promise<void>(() => {}),
      keepAlive: options.keepAliveMs,
      connectionParams: async () => ({
        authToken: await options.token(),
        sessionIds: options.sessionIds(),
      }),
      onNonLazyError: () => undefined, // the `closed` event (or a timeout) says it
    };
  }

  /** Kills the current connection unless `name`'s timer is cleared within `ms`. */
  private arm(name: 'connect' | 'pong', ms: number, reason: string): void {
    this.clearTimer(name);
    const client = this.client;
    const timer = setTimeout(() => client && this.kill(client, reason), ms);
    if (name === 'connect') this.connectTimer = timer;
    else this.pongTimer = timer;
  }

  private onConnected(): void {
    const client = this.client!;
    this.clearTimer('connect');
    for (const waiter of this.waiters) waiter.resolve(client);
    this.waiters.clear();
    for (const live of this.lives) this.send(live, client);
  }

  private armPongTimeout(client: Client): void {
    this.clearTimer('pong');
    this.pongTimer = setTimeout(
      () => this.kill(client, 'pong timeout'),
      this.options.pongTimeoutMs,
    );
  }

  /** Ends a connection that is dead or unwanted; its `closed` event follows (or is made). */
  private kill(client: Client, reason: string): void {
    if (client !== this.client) return;
    client.terminate();
    if (client === this.client) this.onSocketClosed(client, { code: 4499, reason });
  }

  private onSocketClosed(client: Client, event: unknown): void {
    if (client !== this.client) return;
    this.client = null;
    for (const name of ['connect', 'pong'] as const) this.clearTimer(name);
    for (const live of this.lives) this.unsubscribe(live);
    const code = isCloseEvent(event) ? event.code : null;
    const reason = isCloseEvent(event) ? event.reason : '';
    const expired = code === TOKEN_EXPIRED_CLOSE_CODE && this.phase.name === 'connected';
    if (code !== null && AUTH_CLOSE_CODES.has(code) && !expired) {
      this.report(new AuthenticationError(`the gateway refused the credentials: ${reason}`));
    }
    if (code === SOCKET_LIMIT_CLOSE_CODE) {
      this.report(
        new SyncClientError('LIMIT_EXCEEDED', `the gateway refused the connection: ${reason}`),
      );
    }
    this.dispatch({ type: 'lost' });
    // The token expired: connect again now with a fresh one (a refusal then backs off).
    if (expired) this.reconnect();
  }

  private scheduleRetry(attempt: number): void {
    const delay = backoffDelay(attempt, this.options.backoff ?? DEFAULT_BACKOFF);
    this.retryAtDate = new Date(Date.now() + delay);
    this.retryTimer = setTimeout(() => this.dispatch({ type: 'connect' }), delay);
  }

  private onClosedForGood(): void {
    for (const name of ['retry', 'connect', 'pong'] as const) this.clearTimer(name);
    this.retryAtDate = null;
    this.client = null;
    for (const live of [...this.lives]) this.drop(live);
    for (const waiter of this.waiters) waiter.reject(new AppClosedError());
    this.waiters.clear();
    this.unlistenPlatform();
  }

  private connected(signal?: AbortSignal): Promise<Client> {
    if (this.phase.name === 'closed') return Promise.reject(new AppClosedError());
    if (this.client && this.phase.name === 'connected') return Promise.resolve(this.client);
    return new Promise<Client>((resolve, reject) => {
      const onAbort = () => this.waiters.delete(waiter) && reject(new CancelledError());
      const done = () => signal?.removeEventListener('abort', onAbort);
      const waiter: Waiter = {
        resolve: (client) => (done(), resolve(client)),
        reject: (error) => (done(), reject(error)),
      };
      this.waiters.add(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private send(live: Live, client: Client): void {
    const token = {};
    live.token = token;
    const epoch = (this.epoch += 1);
    live.unsubscribe = client.subscribe(
      { query: live.query, variables: live.variables(epoch) },
      {
        next: (value) => {
          if (live.token !== token) return;
          if (value.errors?.length) live.sink.error(fromGraphQLErrors(value.errors));
          else live.sink.next(value.data, epoch);
        },
        // A lost connection is not the subscription's error: it is sent again on the next one.
        error: (error) =>
          live.token === token && !isCloseEvent(error) && live.sink.error(toSyncError(error)),
        complete: () => live.token === token && live.sink.complete?.(),
      },
    );
  }

  private unsubscribe(live: Live): void {
    live.token = null;
    const unsubscribe = live.unsubscribe;
    live.unsubscribe = null;
    unsubscribe?.();
  }

  private drop(live: Live): void {
    live.stopped = true;
    this.unsubscribe(live);
    this.lives.delete(live);
  }

  private report(error: SyncClientError): void {
    for (const listener of this.errorListeners) listener(error);
  }

  private clearTimer(name: 'retry' | 'connect' | 'pong'): void {
    const key = `${name}Timer` as const;
    if (this[key]) clearTimeout(this[key]);
    this[key] = null;
  }

  /** `online` reconnects at once; `offline` drops a connection the platform knows is gone. */
  private listenToPlatform(): () => void {
    const target = globalThis as { addEventListener?: EventTarget['addEventListener'] } & {
      removeEventListener?: EventTarget['removeEventListener'];
    };
    if (!this.options.reconnectOnOnline || typeof target.addEventListener !== 'function') {
      return () => undefined;
    }
    const online = () => this.reconnect();
    const offline = () => this.client && this.kill(this.client, 'offline');
    target.addEventListener('online', online);
    target.addEventListener('offline', offline);
    return () => {
      target.removeEventListener?.('online', online);
      target.removeEventListener?.('offline', offline);
    };
  }
}
