/**
 * Signals through the shared SQLite file: publishing inserts a row, every gateway polls
 * for rows after the last it saw. Rows older than a minute are deleted by whoever
 * publishes, so the table stays small.
 */
import Database from 'better-sqlite3';
import type { Envelope, ClusterSignal, SignalBus } from './signals.js';

const SCHEMA = `CREATE TABLE IF NOT EXISTS signals (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  origin TEXT NOT NULL,
  at TEXT NOT NULL,
  body TEXT NOT NULL
)`;
const KEEP_MS = 60_000;

interface Row {
  seq: number;
  origin: string;
  at: string;
  body: string;
}

export class SqliteSignals implements SignalBus {
  /**
   * Opens the signal table in a file beside the store's (no fsync: a signal lost in a
   * crash is re-derived from the store: streams re-read it when they wake or reconnect).
   */
  static open(storePath: string, gatewayId: string, pollMs?: number): SqliteSignals {
    const db = new Database(`${storePath}-signals`);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = OFF');
    db.pragma('busy_timeout = 5000');
    return new SqliteSignals(db, gatewayId, pollMs);
  }

  private readonly handlers = new Set<(e: Envelope) => void>();
  private readonly insert: Database.Statement;
  private readonly after: Database.Statement;
  private readonly prune: Database.Statement;
  private last = 0;
  private timer: NodeJS.Timeout | null = null;
  private published = 0;

  constructor(
    private readonly db: Database.Database,
    readonly gatewayId: string,
    private readonly pollMs = 25,
  ) {
    db.exec(SCHEMA);
    this.insert = db.prepare('INSERT INTO signals (origin, at, body) VALUES (?, ?, ?)');
    this.after = db.prepare('SELECT * FROM signals WHERE seq > ? ORDER BY seq LIMIT 1000');
    this.prune = db.prepare('DELETE FROM signals WHERE at < ?');
  }

  /** A no-op once stopped: sockets closing during shutdown still report their state. */
  publish(signal: ClusterSignal): void {
    if (!this.db.open) return;
    const now = new Date();
    this.insert.run(this.gatewayId, now.toISOString(), JSON.stringify(signal));
    if ((this.published += 1) % 500 === 0)
      this.prune.run(new Date(now.getTime() - KEEP_MS).toISOString());
  }

  subscribe(handler: (e: Envelope) => void): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  async start(): Promise<void> {
    const row = this.db.prepare('SELECT MAX(seq) AS seq FROM signals').get() as {
      seq: number | null;
    };
    this.last = row.seq ?? 0;
    this.timer = setInterval(() => this.poll(), this.pollMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.db.open) this.db.close();
  }

  private poll(): void {
    for (;;) {
      const rows = this.after.all(this.last) as Row[];
      for (const row of rows) {
        this.last = row.seq;
        if (row.origin === this.gatewayId) continue;
        const envelope = {
          origin: row.origin,
          at: row.at,
          signal: JSON.parse(row.body) as ClusterSignal,
        };
        for (const handler of this.handlers) handler(envelope);
      }
      if (rows.length < 1000) return;
    }
  }
}
