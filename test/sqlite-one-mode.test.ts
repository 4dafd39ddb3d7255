/**
 * One SQLite file, one mode: a second gateway on a file refuses to start (one line naming
 * MULTI_GATEWAY) rather than run apart from the first, unless both are multi-gateway; a
 * holder killed without a word does not block a restart (its pid is gone, or its heartbeat
 * is stale). Time and processes are injected in the claim's tests; two use real gateways.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../src/config.js';
import {
  FileClaim,
  FileInUseError,
  STALE_MS,
  type ClaimOptions,
  type FileMode,
  type Me,
} from '../src/store/sqlite/file-mode.js';
import { startChildGateway, type ChildGateway } from './helpers/child-gateway.js';
import { startTestGateway, type TestGateway } from './helpers/gateway.js';

let dir: string;
let path: string;
const claims: FileClaim[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sync-gw-one-mode-'));
  path = join(dir, 'gateway.sqlite');
});
afterEach(() => {
  claims.splice(0).forEach((c) => c.release());
  rmSync(dir, { recursive: true, force: true });
});

const T0 = 1_800_000_000_000;
const A: Me = { pid: 1001, host: 'host-a', started: 1 };
const alive = new Set<number>();

function claim(id: string, mode: FileMode, me: Me, at = T0, options: ClaimOptions = {}) {
  const isAlive = (pid: number) => alive.has(pid);
  const made = FileClaim.claim(path, id, mode, { me, now: () => at, isAlive, ...options });
  claims.push(made);
  return made;
}

describe('the claim on a SQLite file', () => {
  beforeEach(() => {
    alive.clear();
    alive.add(A.pid);
  });
  const B: Me = { pid: 1002, host: 'host-a', started: 2 };

  it('refuses a single-mode gateway beside any other, naming MULTI_GATEWAY', () => {
    claim('a', 'single', A);
    expect(() => claim('b', 'single', B)).toThrow(FileInUseError);
    expect(() => claim('b', 'single', B)).toThrow(/pid 1001 on host-a\).*MULTI_GATEWAY=true/);
    claims.splice(0).forEach((c) => c.release());
    claim('a', 'multi', A);
    expect(() => claim('b', 'single', B)).toThrow(/in multi-gateway mode.*MULTI_GATEWAY=true/);
  });

  it('refuses a multi-gateway beside a single-mode one, and lets multi-gateways join', () => {
    claim('a', 'single', A);
    expect(() => claim('b', 'multi', B)).toThrow(/without multi-gateway mode.*MULTI_GATEWAY/);
    claims.splice(0).forEach((c) => c.release());
    claim('a', 'multi', A);
    expect(() => claim('b', 'multi', B)).not.toThrow();
  });

  it('takes over from a holder whose pid is gone on this host, at once', () => {
    claim('a', 'single', A);
    alive.delete(A.pid);
    expect(() => claim('b', 'single', B)).not.toThrow();
  });

  it('takes over from a holder with our pid in another process (a restarted container)', () => {
    claim('a', 'single', A);
    expect(() => claim('b', 'single', { ...A, started: 99 })).not.toThrow();
  });

  it('counts a holder in this very process as alive', () => {
    claim('a', 'single', A);
    expect(() => claim('b', 'single', A)).toThrow(FileInUseError);
  });

  it('on another host, trusts the heartbeat until it is stale', () => {
    const other: Me = { pid: 7, host: 'host-b', started: 3 };
    const a = claim('a', 'single', other, T0);
    expect(() => claim('b', 'single', B, T0 + STALE_MS - 1)).toThrow(FileInUseError);
    expect(() => claim('b', 'single', B, T0 + STALE_MS)).not.toThrow();
    expect(a).toBeDefined();
  });

  it('keeps a live holder alive by its heartbeat', () => {
    let now = T0;
    const other: Me = { pid: 7, host: 'host-b', started: 3 };
    const a = FileClaim.claim(path, 'a', 'single', { me: other, now: () => now });
    claims.push(a);
    now = T0 + STALE_MS - 1;
    a.beat();
    expect(() => claim('b', 'single', B, T0 + STALE_MS + 1)).toThrow(FileInUseError);
  });

  it('is free again once released, and a holder whose record was taken hears of it', () => {
    const a = claim('a', 'single', A);
    a.release();
    let lost = 0;
    const b = claim('b', 'single', B, T0, { onLost: () => (lost += 1) });
    alive.delete(B.pid);
    claim('c', 'single', A);
    b.beat();
    b.beat();
    expect(lost).toBe(1);
  });
});

describe('gateways on one SQLite file', () => {
  let first: TestGateway | undefined;
  let child: ChildGateway | undefined;
  afterEach(async () => {
    await first?.close();
    await child?.stop();
    first = child = undefined;
  });

  it('a second gateway refuses to start in a mode that would run apart; once the first stops, it starts', async () => {
    first = await startTestGateway({ dataDir: dir, file: true });
    const again = { dataDir: dir, file: true };
    await expect(startTestGateway(again)).rejects.toThrow(ConfigError);
    await expect(startTestGateway(again)).rejects.toThrow(/MULTI_GATEWAY/);
    const multi = { ...again, env: { MULTI_GATEWAY: 'true' } };
    await expect(startTestGateway(multi)).rejects.toThrow(/without multi-gateway mode/);
    await first.close();
    first = await startTestGateway(again);
    expect((await first.http('{ __typename }')).data).toEqual({ __typename: 'Query' });
  });

  it('the CLI says so in one line; a SIGKILLed holder does not block the restart', async () => {
    const env = { JWT_SECRET: 'one-mode-secret-one-mode-secret-one-mode' };
    child = await startChildGateway(dir, env);
    const refused = await startChildGateway(dir, env).then(
      () => new Error('a second gateway started'),
      (error: Error) => error,
    );
    const stderr = refused.message.split('\n').slice(1).join('\n').trim();
    expect(stderr).toMatch(/^configuration error: .*gateway\.sqlite is in use by another gateway/);
    expect(stderr).toMatch(/MULTI_GATEWAY=true/);
    expect(stderr.split('\n')).toHaveLength(1);
    await child.stop('SIGKILL');
    child = await startChildGateway(dir, env);
    expect(child.url).toMatch(/^http:/);
  }, 60_000);
});
