/**
 * Every write of the SQLite store, on one connection: integrations and openings in groups
 * (one `BEGIN IMMEDIATE` transaction per group, a savepoint per item), session patches,
 * touches, acknowledgements, compaction, expiry and index creation. Synchronous; the store
 * runs it on its own thread or on the writer thread (writer-thread.ts), never both.
 */
import type Database from 'better-sqlite3';
import {
  documentKey,
  type DownloadAck,
  type IntegrationOutcome,
  type IntegrationPlan,
  type SessionExpectation,
  type SessionPatch,
} from '../port.js';
import type { DocumentKey, SessionRecord, StoredDocument } from '../../sync/model.js';
import { createScopeIndex } from './scope-sql.js';
import { SqliteStatements } from './statements.js';
import { toSession, type SessionRow } from './rows.js';

export interface IntegrationJob {
  sessionId: string;
  keys: readonly DocumentKey[];
  plan: IntegrationPlan<unknown>;
}

export type Outcome<O> = { ok: true; value: O } | { ok: false; error: unknown };

/** The values of the items that are ready, in order (to run them as one group). */
export const readyOf = <I>(prepared: Outcome<I>[]): I[] =>
  prepared.flatMap((p) => (p.ok ? [p.value] : []));

/**
 * Each prepared item's outcome: a failed one as it failed, a ready one the next of
 * `results`, which the ready ones produced in their order.
 */
export function fillIn<I, O>(prepared: Outcome<I>[], results: Outcome<O>[]): Outcome<O>[] {
  let next = 0;
  return prepared.map((p) => (p.ok ? results[next++]! : p));
}

/**
 * A group commit's transaction: one for the group (one fsync), each item in a savepoint of
 * its own, so one that fails is rolled back alone and gets its error as its outcome.
 */
function groupTransaction<I, O>(db: Database.Database, items: I[], run: (item: I) => O) {
  const one = db.transaction(run);
  const group = db.transaction((): Outcome<O>[] =>
    items.map((item) => {
      try {
        return { ok: true, value: one(item) };
      } catch (error) {
        return { ok: false, error };
      }
    }),
  );
  return group.immediate();
}

export class SqliteWrites {
  /** `sql`: the connection's statements, when its owner compiled them already. */
  constructor(
    private readonly db: Database.Database,
    private readonly sql = new SqliteStatements(db),
  ) {}

  integrateGroup(jobs: IntegrationJob[]): Outcome<IntegrationOutcome<unknown>>[] {
    return groupTransaction(this.db, jobs, (job) => this.integrateOne(job));
  }

  private integrateOne(job: IntegrationJob): IntegrationOutcome<unknown> {
    const row = this.sql.sessionById.get(job.sessionId) as SessionRow | undefined;
    if (!row) throw new Error(`session ${job.sessionId} vanished during integration`);
    const documents = new Map<string, StoredDocument>();
    for (const key of job.keys) {
      const doc = this.sql.getDocument(key);
      if (doc) documents.set(documentKey(doc), doc);
    }
    const writes = job.plan({ session: toSession(row), documents });
    const versions = new Map<string, number>();
    let last = 0;
    for (const h of writes.history) {
      last = this.sql.appendHistory(h);
      versions.set(documentKey(h), last);
    }
    for (const d of writes.documents) {
      this.sql.putDocument(
        d,
        versions.get(documentKey(d)) ?? documents.get(documentKey(d))?.version ?? 0,
      );
    }
    this.sql.patchUpload(job.sessionId, writes.session);
    return { result: writes.result, serverVersion: last || this.sql.latestVersion() };
  }

  /** Each candidate's session: the stored one of its client, else the candidate, inserted. */
  openGroup(candidates: SessionRecord[]): Outcome<SessionRecord>[] {
    return groupTransaction(this.db, candidates, (candidate) => {
      const existing = this.sql.sessionByClient.get(candidate.clientId) as SessionRow | undefined;
      if (existing) return toSession(existing);
      this.sql.insertSession(candidate);
      return candidate;
    });
  }

  updateSession(id: string, patch: SessionPatch, expect?: SessionExpectation) {
    if (!this.sql.patchSession(id, patch, expect)) return undefined;
    const row = this.sql.sessionById.get(id) as SessionRow | undefined;
    return row && toSession(row);
  }

  /** Creates the index of each path, in one write transaction (existing ones are kept). */
  createScopeIndexes(paths: readonly string[]): void {
    if (paths.length === 0) return;
    this.db.transaction(() => paths.forEach((p) => this.db.exec(createScopeIndex(p)))).immediate();
  }

  compactHistory(before: string): number {
    return this.sql.compactHistory(before);
  }

  expireSessions(before: string): string[] {
    return this.db.transaction(() => this.sql.expireSessions(before)).immediate();
  }

  touchSessions(ids: readonly string[], at: string): void {
    if (ids.length > 0) this.sql.touchSessions(ids, at);
  }

  /** In one transaction: one fsync for the whole group. */
  acknowledgeDownloads(acks: readonly DownloadAck[], at: string): void {
    if (acks.length === 0) return;
    this.db.transaction(() => this.sql.acknowledgeDownloads(acks, at)).immediate();
  }

  /** The WAL's length, in pages, at which this connection's commits checkpoint it. */
  checkpointAt(pages: number): void {
    this.db.pragma(`wal_autocheckpoint = ${Math.max(0, Math.trunc(pages))}`);
  }
}
