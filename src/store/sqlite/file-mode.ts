/**
 * One SQLite file, one mode. Every gateway on a file records itself in the file's
 * `gateways` table: its mode (single, or multi: signalling the others through the file
 * beside it), pid, host, process start and a heartbeat. A gateway starting on the file
 * refuses when a live one runs in a mode it cannot run beside: a single-mode gateway
 * beside any other, a multi-gateway beside a single-mode one. Otherwise two gateways
 * would run apart, each blind to the other's changes.
 *
 * A holder killed without a word (SIGKILL, a crash) must not block a restart: on the same
 * host, a holder whose pid is gone, or whose pid is ours in another process (a container
 * restarted), is dead at once; otherwise a holder is alive while its heartbeat is fresh.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';

export type FileMode = 'single' | 'multi';

/** Refused: the file is held by a gateway in a mode this one cannot run beside. */
export class FileInUseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FileInUseError';
  }
}

export interface Holder {
  id: string;
  mode: FileMode;
  pid: number;
  host: string;
  /** When the holder's process started (ms since the epoch, rounded). */
  started: number;
  /** The holder's last heartbeat (ms since the epoch). */
  heartbeat: number;
}

/** The process a claim is made from; injected by tests. */
export interface Me {
  pid: number;
  host: string;
  started: number;
}

export interface ClaimOptions {
  /** Wall-clock time in ms (a heartbeat compares across processes). */
  now?: () => number;
  me?: Me;
  /** Whether a process with this pid runs on this host. */
  isAlive?: (pid: number) => boolean;
  /** How often the heartbeat is written. */
  heartbeatMs?: number;
  /** How old a heartbeat may be for its holder to count as alive. */
  staleMs?: number;
  /** The claim's row was removed by another gateway that took the holder for dead (once). */
  onLost?: () => void;
  /** A heartbeat failed (it tries again at the next). */
  onError?: (error: unknown) => void;
}

export const HEARTBEAT_MS = 2_000;
export const STALE_MS = 15_000;

const SCHEMA = `CREATE TABLE IF NOT EXISTS gateways (
  id TEXT PRIMARY KEY,
  mode TEXT NOT NULL,
  pid INTEGER NOT NULL,
  host TEXT NOT NULL,
  started INTEGER NOT NULL,
  heartbeat INTEGER NOT NULL
)`;

export function thisProcess(): Me {
  return { pid: process.pid, host: hostname(), started: Math.round(performance.timeOrigin) };
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether a recorded holder still runs (see the module's comment). */
export function holderAlive(
  holder: Holder,
  me: Me,
  now: number,
  staleMs: number,
  isAlive: (pid: number) => boolean,
): boolean {
  if (holder.host === me.host) {
    if (holder.pid === me.pid) return holder.started === me.started;
    if (!isAlive(holder.pid)) return false;
  }
  return now - holder.heartbeat < staleMs;
}

const describeHolder = (h: Holder) => `pid ${h.pid} on ${h.host}`;
const FLAG = '--multi-gateway / MULTI_GATEWAY=true';

/** Why `mode` cannot run beside the live holders, or null. */
export function conflict(path: string, mode: FileMode, live: readonly Holder[]): string | null {
  const single = live.find((h) => h.mode === 'single');
  if (mode === 'multi' && single) {
    return `${path} is in use by a gateway without multi-gateway mode (${describeHolder(single)}): stop it, or restart it with ${FLAG}, before starting more on this file`;
  }
  if (mode === 'single' && live.length > 0) {
    const other = single ?? live[0]!;
    const how = other.mode === 'multi' ? ', in multi-gateway mode' : '';
    return `${path} is in use by another gateway (${describeHolder(other)}${how}): to run several gateways on one SQLite file, start every one with ${FLAG}; otherwise stop the other first`;
  }
  return null;
}

function openDatabase(path: string): Database.Database {
  mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  // Heartbeats need no fsync: after a crash the holder is dead anyway.
  db.pragma('synchronous = OFF');
  db.pragma('busy_timeout = 5000');
  db.exec(SCHEMA);
  return db;
}

/** A gateway's hold on a SQLite file, in its mode, kept by a heartbeat until released. */
export class FileClaim {
  /**
   * Records this gateway on the file, or throws FileInUseError naming the holder that
   * stands in the way. Dead holders' rows are removed on the way.
   */
  static claim(path: string, id: string, mode: FileMode, options: ClaimOptions = {}): FileClaim {
    const db = openDatabase(path);
    try {
      const claim = new FileClaim(db, id, options);
      claim.take(path, mode);
      return claim;
    } catch (error) {
      db.close();
      throw error;
    }
  }

  private readonly now: () => number;
  private timer: NodeJS.Timeout | null = null;
  private lost = false;
  private readonly update: Database.Statement;

  private constructor(
    private readonly db: Database.Database,
    readonly id: string,
    private readonly options: ClaimOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.update = db.prepare('UPDATE gateways SET heartbeat = ? WHERE id = ?');
  }

  private take(path: string, mode: FileMode): void {
    const me = this.options.me ?? thisProcess();
    const staleMs = this.options.staleMs ?? STALE_MS;
    const isAlive = this.options.isAlive ?? pidAlive;
    this.db
      .transaction(() => {
        const now = this.now();
        const rows = this.db.prepare('SELECT * FROM gateways').all() as Holder[];
        const dead = rows.filter((h) => !holderAlive(h, me, now, staleMs, isAlive));
        const remove = this.db.prepare('DELETE FROM gateways WHERE id = ?');
        for (const holder of dead) remove.run(holder.id);
        const reason = conflict(
          path,
          mode,
          rows.filter((h) => !dead.includes(h)),
        );
        if (reason) throw new FileInUseError(reason);
        this.db
          .prepare(
            'INSERT INTO gateways (id, mode, pid, host, started, heartbeat) VALUES (?, ?, ?, ?, ?, ?)',
          )
          .run(this.id, mode, me.pid, me.host, me.started, now);
      })
      .immediate();
    this.timer = setInterval(() => this.beat(), this.options.heartbeatMs ?? HEARTBEAT_MS);
    this.timer.unref();
  }

  /** Writes the heartbeat now (the timer calls it). */
  beat(): void {
    if (!this.db.open || this.lost) return;
    try {
      if (this.update.run(this.now(), this.id).changes > 0) return;
      this.lost = true;
      this.options.onLost?.();
    } catch (error) {
      this.options.onError?.(error);
    }
  }

  /** Removes the record: the file is free for any mode. Idempotent. */
  release(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (!this.db.open) return;
    try {
      this.db.prepare('DELETE FROM gateways WHERE id = ?').run(this.id);
    } finally {
      this.db.close();
    }
  }
}
