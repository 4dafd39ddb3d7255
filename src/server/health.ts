/** `GET /health` (the process answers) and `GET /ready` (the store is open and serving). */
import type { IncomingMessage, ServerResponse } from 'node:http';

export function handleHealth(
  req: IncomingMessage,
  res: ServerResponse,
  ready: () => boolean,
): boolean {
  const path = (req.url ?? '').split('?')[0];
  if (req.method !== 'GET' || (path !== '/health' && path !== '/ready')) return false;
  const ok = ready();
  res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ status: ok ? 'ok' : 'starting' }));
  return true;
}
