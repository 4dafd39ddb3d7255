/**
 * The integration plan of one upload: applies its changesets in order to the documents
 * read inside the store's transaction, under the user's write rules, and decides what to
 * write. Pure and synchronous, so every store adapter can run it inside its transaction.
 */
import { badInput, SyncError } from '../errors.js';
import { isPaused } from '../session/pause.js';
import { documentKey, type IntegrationView, type IntegrationWrites } from '../store/port.js';
import { applyChange, emptyState, makeStamp, visibleDocument } from './conflict.js';
import type { Change, Changeset, DocumentState, HistoryEntry, JsonObject } from './model.js';
import type { UserPermissions } from './permissions.js';

export interface CompensatingWrite {
  collection: string;
  id: string;
  reason: string;
  document: JsonObject | null;
}

export interface UploadResult {
  lastIntegratedClientVersion: number;
  compensatingWrites: CompensatingWrite[];
}

interface Working {
  collection: string;
  id: string;
  state: DocumentState;
  doc: JsonObject | null;
}

class Integration {
  readonly docs = new Map<string, Working>();
  readonly history: Omit<HistoryEntry, 'version'>[] = [];
  readonly compensating: CompensatingWrite[] = [];
  private readonly touched = new Set<string>();

  constructor(
    view: IntegrationView,
    private readonly clientId: string,
    private readonly perms: UserPermissions,
  ) {
    for (const [key, d] of view.documents) this.docs.set(key, { ...d });
  }

  apply(change: Change, stamp: string, clientVersion: number): void {
    const key = documentKey(change);
    const current = this.docs.get(key) ?? {
      collection: change.collection,
      id: change.id,
      state: emptyState(),
      doc: null,
    };
    const before = current.doc;
    if (before && !this.perms.canWrite(change.collection, before))
      return this.refuse(change, before);
    const state = applyChange(current.state, change, stamp);
    const after = visibleDocument(change.id, state);
    if (after && !this.perms.canWrite(change.collection, after)) return this.refuse(change, before);
    this.docs.set(key, { ...current, state, doc: after });
    this.touched.add(key);
    if (JSON.stringify(before) === JSON.stringify(after)) return;
    this.history.push({
      collection: change.collection,
      id: change.id,
      clientId: this.clientId,
      clientVersion,
      before,
      after,
    });
  }

  changedDocuments(): Working[] {
    return [...this.touched]
      .map((key) => this.docs.get(key))
      .filter((d): d is Working => d !== undefined);
  }

  private refuse(change: Change, serverDoc: JsonObject | null): void {
    const reason = `PERMISSION_DENIED: ${change.op} refused by the ${this.perms.describeWrite(change.collection)}`;
    this.compensating.push({
      collection: change.collection,
      id: change.id,
      reason,
      document: serverDoc,
    });
  }
}

export interface UploadReport {
  /** The newest changeset the client has made, sent or not. */
  latestClientVersion: number | null;
  now: Date;
}

/** Builds the plan that integrates `changesets` for the session's client. */
export function planIntegration(
  changesets: readonly Changeset[],
  perms: UserPermissions,
  report: UploadReport,
) {
  return (view: IntegrationView): IntegrationWrites<UploadResult> => {
    const { session } = view;
    if (isPaused(session.pause, 'UPLOAD', report.now)) {
      throw new SyncError(
        'SESSION_PAUSED',
        `session ${session.id} is paused for uploads; nothing was written`,
      );
    }
    const work = new Integration(view, session.clientId, perms);
    let last = session.lastIntegratedClientVersion;
    changesets.forEach((cs, i) => {
      if (cs.clientVersion <= last) return;
      if (cs.clientVersion !== last + 1) {
        throw badInput(
          `changesets[${i}].clientVersion`,
          `is ${cs.clientVersion} but the next expected is ${last + 1}`,
        );
      }
      cs.changes.forEach((c, j) =>
        work.apply(c, makeStamp(cs.timestamp, session.clientId, j), cs.clientVersion),
      );
      last = cs.clientVersion;
    });
    return {
      lastIntegratedClientVersion: last,
      latestClientVersion: Math.max(last, report.latestClientVersion ?? 0),
      documents: work.changedDocuments(),
      history: work.history,
      result: { lastIntegratedClientVersion: last, compensatingWrites: work.compensating },
    };
  };
}
