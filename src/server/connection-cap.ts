/**
 * The process's open-file limit caps its connections: every socket is a file descriptor,
 * and past the limit the operating system refuses new ones (Node's accept fails and the
 * client sees a reset, with nothing in the gateway's log), and SQLite may fail to open its
 * files. The gateway reads the limit at start (Linux: /proc/self/limits; elsewhere unknown),
 * says it in the log, stops accepting connections a margin below it (`server.maxConnections`,
 * so descriptors stay free for the store and the logs), and logs the connections it drops
 * (Node's 'drop' event), at most once per interval.
 */
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { Logger } from 'pino';

/** Descriptors kept for the store, the logs and the runtime itself. */
export const RESERVED_DESCRIPTORS = 128;
/** At most one log line about dropped connections per this many ms. */
const DROP_LOG_INTERVAL_MS = 10_000;

/** The soft limit on open files from /proc/self/limits' text; null when unlimited or absent. */
export function parseOpenFileLimit(limits: string): number | null {
  const line = limits.split('\n').find((l) => l.startsWith('Max open files'));
  const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
  const value = Number(soft);
  return soft && Number.isSafeInteger(value) && value > 0 ? value : null;
}

/** The process's soft limit on open files, or null when it cannot be read (not Linux). */
export function openFileLimit(): number | null {
  try {
    return parseOpenFileLimit(readFileSync('/proc/self/limits', 'utf8'));
  } catch {
    return null;
  }
}

/** The connections a process may accept under `limit` open files (null: no cap). */
export const connectionCap = (limit: number | null): number | null =>
  limit === null ? null : Math.max(1, limit - RESERVED_DESCRIPTORS);

/** Caps the server's connections below the open-file limit and logs the cap and the drops. */
export function capConnections(server: Server, logger: Logger, limit = openFileLimit()): void {
  const cap = connectionCap(limit);
  logger.info(
    { event: 'gateway.connection_cap', openFileLimit: limit, maxConnections: cap },
    cap === null
      ? 'open-file limit unknown: connections are not capped by the gateway'
      : `at most ${cap} connections (open-file limit ${limit}; raise it with ulimit -n or LimitNOFILE)`,
  );
  if (cap === null) return;
  server.maxConnections = cap;
  let dropped = 0;
  let loggedAt = -Infinity;
  server.on('drop', () => {
    dropped += 1;
    const now = Date.now();
    if (now - loggedAt < DROP_LOG_INTERVAL_MS) return;
    loggedAt = now;
    logger.warn(
      { event: 'gateway.connections_dropped', dropped, maxConnections: cap, openFileLimit: limit },
      'connections refused at the connection cap: raise the open-file limit (ulimit -n)',
    );
  });
}
