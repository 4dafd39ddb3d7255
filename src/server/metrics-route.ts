/**
 * `GET /metrics`: the Prometheus exposition of the gateway's metrics. With a token (the
 * METRICS_TOKEN setting) a scrape must send `Authorization: Bearer <token>`; without one the
 * route is open (keep the port private then).
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GatewayMetrics } from './metrics.js';
import { requestPath } from './request-path.js';

function authorized(req: IncomingMessage, token: string | null): boolean {
  if (token === null) return true;
  const given = Buffer.from(req.headers.authorization ?? '');
  const expected = Buffer.from(`Bearer ${token}`);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function refuse(res: ServerResponse): void {
  res.writeHead(401, {
    'content-type': 'text/plain; charset=utf-8',
    'www-authenticate': 'Bearer realm="metrics"',
  });
  res.end('401: the metrics need Authorization: Bearer <METRICS_TOKEN>\n');
}

async function scrape(res: ServerResponse, metrics: GatewayMetrics): Promise<void> {
  try {
    const { contentType, body } = await metrics.exposition();
    res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' });
    res.end(body);
  } catch (error) {
    res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(`500: the metrics could not be collected: ${(error as Error).message}\n`);
  }
}

/** Answers `GET /metrics` (true), or leaves the request to the next handler (false). */
export function handleMetrics(
  req: IncomingMessage,
  res: ServerResponse,
  metrics: GatewayMetrics,
  token: string | null,
): boolean {
  const path = requestPath(req);
  if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) return false;
  if (!authorized(req, token)) refuse(res);
  else void scrape(res, metrics);
  return true;
}
