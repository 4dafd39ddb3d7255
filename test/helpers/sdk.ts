/** The real client SDK, pointed at a test gateway. */
import WebSocket from 'ws';
import {
  App,
  openSyncedDatabase,
  type AppOptions,
  type BackoffOptions,
  type Doc,
  type LocalDatabase,
  type SyncClientError,
} from '../../client/src/index.js';
import type { TestGateway } from './gateway.js';

export const FAST_BACKOFF: BackoffOptions = { baseMs: 20, maxMs: 200 };

export async function sdkApp(
  gw: TestGateway,
  user: string,
  backoff = FAST_BACKOFF,
  options: Partial<AppOptions> = {},
): Promise<App> {
  const token = await gw.token(user);
  return new App({
    url: gw.gateway.wsUrl,
    token,
    webSocketImpl: WebSocket,
    backoff,
    keepAliveMs: 1000,
    ...options,
  });
}

/** Resolves once the app is CONNECTED (at once if it is). */
export const untilConnected = (a: App) => untilState(a, 'CONNECTED');

export function untilState(a: App, state: App['connectionState']): Promise<void> {
  return new Promise<void>((resolve) => {
    if (a.connectionState === state) return resolve();
    const stop = a.onConnectionChange((_, current) => current === state && (stop(), resolve()));
  });
}

/** Collects a session's errors, to assert on what reached the app. */
export function collectErrors(db: {
  syncSession: { onError(l: (e: SyncClientError) => void): unknown };
}) {
  const errors: SyncClientError[] = [];
  db.syncSession.onError((e) => errors.push(e));
  return errors;
}

export async function openCars(
  app: App,
  clientId: string,
  options: Partial<Parameters<typeof openSyncedDatabase>[1]> = {},
) {
  return openSyncedDatabase(app, { clientId, queries: [{ collection: 'cars' }], ...options });
}

/** Resolves once `predicate` holds for the database (checked after every change). */
export function untilDb(
  db: LocalDatabase,
  predicate: () => boolean,
  what = 'condition',
): Promise<void> {
  return new Promise((resolve, reject) => {
    if (predicate()) return resolve();
    // A safety net so that a bug fails the test instead of hanging it; not a timing assertion.
    const timer = setTimeout(
      () => (stop(), reject(new Error(`${what} not met; docs=${JSON.stringify(db.all('cars'))}`))),
      10_000,
    );
    const stop = db.onChange(() => {
      if (!predicate()) return;
      clearTimeout(timer);
      stop();
      resolve();
    });
  });
}

/** Resolves once `done()` holds, checking every 20 ms; a safety net fails it after `ms`. */
export async function until(done: () => boolean, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export const car = (id: string, make: string, ownerId = 'alice'): Doc => ({
  _id: id,
  make,
  ownerId,
});

/** Resolves with the session's first error (from now on) that `match` accepts. */
export function untilError<E extends SyncClientError>(
  db: { syncSession: { onError(l: (e: SyncClientError) => void): () => void } },
  match: (e: SyncClientError) => e is E,
): Promise<E> {
  return new Promise((resolve) => {
    const stop = db.syncSession.onError((e) => {
      if (!match(e)) return;
      stop();
      resolve(e);
    });
  });
}
