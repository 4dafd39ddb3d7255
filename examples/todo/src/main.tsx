/**
 * A to-do list on the SDK: IndexedDB storage (a slot per tab, kept across reloads and
 * browser restarts), React hooks, offline writes that sync when the network is back, and a
 * service worker so the page itself opens offline.
 *
 *   ?gateway=ws://localhost:4000/graphql&token=<jwt>   (no token: the gateway's dev mode)
 */
import { createRoot } from 'react-dom/client';
import {
  App,
  IndexedDbStorage,
  openSyncedDatabase,
  type SyncedDatabase,
} from '@graphql-sync-gateway/client';
import { TodoApp, type Todo } from './todo-app.js';

const params = new URLSearchParams(location.search);
const gateway = params.get('gateway') ?? 'ws://localhost:4000/graphql';
const token = params.get('token') ?? undefined;

/** The token's user (its `sub`), or "dev" for a gateway in development mode. */
function userOf(jwt: string | undefined): string {
  if (!jwt) return 'dev';
  const payload = JSON.parse(atob(jwt.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/')));
  return String((payload as { sub: string }).sub);
}

/** One client per storage slot, for good: the slot's unsynced writes stay its client's. */
function clientIdOf(storage: IndexedDbStorage): string {
  const key = `todo-client:${storage.name}`;
  const id = localStorage.getItem(key) ?? `todo-${crypto.randomUUID()}`;
  localStorage.setItem(key, id);
  return id;
}

async function main(): Promise<void> {
  if ('serviceWorker' in navigator) await navigator.serviceWorker.register('./sw.js');
  const storage = await IndexedDbStorage.claim('todo');
  const app = new App({ url: gateway, token });
  const realm: SyncedDatabase<{ todos: Todo }> = await openSyncedDatabase<{ todos: Todo }>(app, {
    clientId: clientIdOf(storage),
    queries: [{ collection: 'todos' }],
    storage,
    onError: (error) => console.warn(`sync: ${error.code}: ${error.message}`),
  });
  addEventListener('pagehide', () => void app.close().then(() => storage.close()));
  createRoot(document.getElementById('root')!).render(
    <TodoApp realm={realm} app={app} user={userOf(token)} slot={storage.name} />,
  );
}

void main();
