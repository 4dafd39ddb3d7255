/**
 * The probes of a load balancer or orchestrator:
 * - `GET /health`: the process lives and serves HTTP: 200 `{"status":"ok"}`, as soon as it
 *   listens and until it exits (shutting down included: a liveness probe must not kill a
 *   gateway that is draining).
 * - `GET /ready`: whether to send it traffic: 200 `{"status":"ready","checks":{…}}`, else 503
 *   `{"status":"unavailable","failed":[…],"checks":{…}}` naming what failed. See readiness.ts.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readiness } from './readiness.js';
import { requestPath } from './request-path.js';

function answer(res: ServerResponse, status: number, body: unknown, closing: boolean): void {
  res.writeHead(status, {
    'content-type': 'application/json',
    'cache-control': 'no-store',
    ...(closing ? { connection: 'close' } : {}),
  });
  res.end(JSON.stringify(body));
}

/** Answers `/health` and `/ready` (true), or leaves the request to the next handler (false). */
export function handleHealth(
  req: IncomingMessage,
  res: ServerResponse,
  readiness: Readiness,
): boolean {
  const path = requestPath(req);
  if (req.method !== 'GET' || (path !== '/health' && path !== '/ready')) return false;
  const closing = readiness.stopping();
  if (path === '/health') answer(res, 200, { status: 'ok' }, closing);
  else
    void readiness.check().then((report) => {
      answer(res, report.status === 'ready' ? 200 : 503, report, closing);
    });
  return true;
}
