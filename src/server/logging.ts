/**
 * The gateway's logger and the request each line belongs to.
 *
 * One JSON line per event (pino), or readable lines through pino-pretty: LOG_FORMAT=pretty
 * or json; unset, pretty when NODE_ENV is not production and stdout is a terminal. LOG_LEVEL
 * sets the level (default info).
 *
 * Every HTTP request runs in a request context (AsyncLocalStorage) holding its request id:
 * the client's `x-request-id` when it is a sane one, else a new UUID, echoed in the
 * response. Lines written while serving it carry `requestId`, whatever layer they come from.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import pino, { type Logger } from 'pino';
import { ConfigError } from '../config.js';

export type LogFormat = 'pretty' | 'json';

export interface LogSettings {
  LOG_LEVEL?: string;
  LOG_FORMAT?: string;
  NODE_ENV?: string;
}

export function logFormat(env: LogSettings, isTTY = process.stdout.isTTY === true): LogFormat {
  const format = env.LOG_FORMAT;
  if (format === 'pretty' || format === 'json') return format;
  if (format) throw new ConfigError(`LOG_FORMAT: "${format}" is neither pretty nor json`);
  return env.NODE_ENV !== 'production' && isTTY ? 'pretty' : 'json';
}

export function createLogger(env: LogSettings = process.env): Logger {
  const level = env.LOG_LEVEL ?? 'info';
  if (logFormat(env) === 'json') return pino({ level });
  const options = { colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' };
  return pino({ level }, pino.transport({ target: 'pino-pretty', options }));
}

interface RequestContext {
  requestId: string;
}

const requests = new AsyncLocalStorage<RequestContext>();

/** The request id of the HTTP request being served, if any. */
export function currentRequestId(): string | undefined {
  return requests.getStore()?.requestId;
}

const SANE_ID = /^[\w.:-]{1,128}$/;

/** Runs `serve` in the request's context, under its request id (echoed as `x-request-id`). */
export function inRequestContext(req: IncomingMessage, res: ServerResponse, serve: () => void) {
  const given = req.headers['x-request-id'];
  const requestId = typeof given === 'string' && SANE_ID.test(given) ? given : randomUUID();
  res.setHeader('x-request-id', requestId);
  requests.run({ requestId }, serve);
}

/** `fields` with the current request id, when there is one. */
export function withRequest<T extends object>(fields: T): T & { requestId?: string } {
  const requestId = currentRequestId();
  return requestId ? { requestId, ...fields } : fields;
}
