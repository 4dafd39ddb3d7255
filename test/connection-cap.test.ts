/**
 * The gateway caps its connections below the process's open-file limit and says so: the
 * limit read from /proc/self/limits, the cap logged at start, a connection past it refused
 * and the refusal logged (not a silent reset).
 */
import { createServer } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import {
  capConnections,
  connectionCap,
  parseOpenFileLimit,
  RESERVED_DESCRIPTORS,
} from '../src/server/connection-cap.js';

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max processes             127431               127431               processes
Max open files            20000                524288               files
Max locked memory         8388608              8388608              bytes`;

describe('the open-file limit', () => {
  it('is the soft limit of /proc/self/limits; unlimited or absent is unknown', () => {
    expect(parseOpenFileLimit(LIMITS)).toBe(20000);
    expect(parseOpenFileLimit(LIMITS.replace('20000 ', 'unlimited'))).toBeNull();
    expect(parseOpenFileLimit('')).toBeNull();
    expect(connectionCap(20000)).toBe(20000 - RESERVED_DESCRIPTORS);
    expect(connectionCap(null)).toBeNull();
  });

  it('caps connections below it, and logs the cap and every drop', async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'info' }, { write: (l: string) => lines.push(JSON.parse(l)) });
    const server = createServer((_req, res) => res.end('ok'));
    capConnections(server, logger, RESERVED_DESCRIPTORS + 2);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    const open = () =>
      new Promise<Socket>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () => resolve(socket)).on('error', reject);
      });
    const kept = [await open(), await open()];
    const third = await open();
    const closed = await new Promise<boolean>((resolve) => {
      third.on('close', () => resolve(true));
      setTimeout(() => resolve(false), 5000);
    });
    expect(closed).toBe(true);
    expect(lines.find((l) => l.event === 'gateway.connection_cap')).toMatchObject({
      openFileLimit: RESERVED_DESCRIPTORS + 2,
      maxConnections: 2,
    });
    expect(lines.find((l) => l.event === 'gateway.connections_dropped')).toMatchObject({
      dropped: 1,
      maxConnections: 2,
    });
    for (const s of kept) s.destroy();
    await new Promise((r) => server.close(r));
  });
});
