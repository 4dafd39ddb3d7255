/** The real client SDK, pointed at a test gateway. */
import WebSocket from 'ws';
import {
  App,
  openSyncedDatabase,
  type BackoffOptions,
  type Doc,
  type LocalDatabase,
} from '../../client/src/index.js';
import type { TestGateway } from './gateway.js';

export const FAST_BACKOFF: BackoffOptions = { baseMs: 20, maxMs: 200 };

export async function sdkApp(gw: TestGateway, user: string, backoff = FAST_BACKOFF): Promise<App> {
  const token = await gw.token(user);
  return new App({
    url: gw.gateway.wsUrl,
    token,
    webSocketImpl: WebSocket,
    backoff,
    keepAliveMs: 1000,
  });
}

export async function openCars(app: App, clientId: string) {
  return openSyncedDatabase(app, { clientId, queries: [{ collection: 'cars' }] });
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

export const car = (id: string, make: string, ownerId = 'alice'): Doc => ({
  _id: id,
  make,
  ownerId,
});
