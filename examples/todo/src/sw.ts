/**
 * The service worker: the app shell (the page and its script) from the cache first, so the
 * page opens offline; the network refreshes the cache whenever it answers.
 */
const CACHE = 'todo-shell-v1';
const SHELL = ['./', './index.html', './app.js'];

/** The part of the service worker's global scope used here (the DOM lib does not type it). */
interface Worker {
  addEventListener(type: 'install' | 'activate', fn: (event: ExtendableEvent) => void): void;
  addEventListener(type: 'fetch', fn: (event: FetchEvent) => void): void;
  skipWaiting(): Promise<void>;
  clients: { claim(): Promise<void> };
}
interface ExtendableEvent {
  waitUntil(work: Promise<unknown>): void;
}
interface FetchEvent extends ExtendableEvent {
  request: Request;
  respondWith(response: Promise<Response>): void;
}

const worker = self as unknown as Worker;

worker.addEventListener('install', (event) => {
  const cached = caches.open(CACHE).then((cache) => cache.addAll(SHELL));
  event.waitUntil(cached.then(() => worker.skipWaiting()));
});

worker.addEventListener('activate', (event) => event.waitUntil(worker.clients.claim()));

worker.addEventListener('fetch', (event) => {
  if (event.request.method !== 'GET' || !event.request.url.startsWith(location.origin)) return;
  event.respondWith(cachedOrFresh(event.request));
});

async function cachedOrFresh(request: Request): Promise<Response> {
  const cached = await caches.match(request, { ignoreSearch: true });
  const fresh = fetch(request).then((response) => {
    const copy = response.clone();
    if (response.ok) void caches.open(CACHE).then((cache) => cache.put(request, copy));
    return response;
  });
  if (cached) {
    fresh.catch(() => undefined); // offline: the cached copy serves
    return cached;
  }
  return fresh;
}
