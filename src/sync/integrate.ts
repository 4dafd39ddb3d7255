/**
 * The integration plan of one upload: applies its changesets in order to the documents
 * read inside the store's transaction, under the user's write rules, and decides what to
 * write. Pure and synchronous, so every store adapter can run it inside its transaction.
 */
import { badInput, SyncError } from '../errors.js';
import { isPaused } from './pause.js';
import { accountUpload, changesetBytes, type UploadReport } from './upload-accounting.js';
import { documentKey, type IntegrationView, type IntegrationWrites } from '../store/port.js';
import {
  applyChange,
  emptyState,
  lastKnownDocument,
  makeStamp,
  visibleDocument,
} from './conflict.js';
import {
  BACKEND_CLIENT_ID,
  backendChanges,
  backendStamp,
  backendTimestamp,
  sameDocument,
} from './backend-writes.js';
import { SYSTEM_USER } from './model.js';
import type {
  Change,
  Changeset,
  DocumentState,
  HistoryEntry,
  JsonObject,
  SessionRecord,
  StoredDocument,
} from './model.js';
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
  /** Changes integrated as written: those of the changesets applied, less the refused. */
  changesIntegrated: number;
}

interface Working {
  collection: string;
  id: string;
  state: DocumentState;
  doc: JsonObject | null;
  /** The store's visible copy already is `doc` (a backend write taken as it was written). */
  copyIntact?: boolean;
}

/** Whether two documents (or nulls) are the same as JSON; one null and one not never are. */
const sameJson = (a: JsonObject | null, b: JsonObject | null): boolean =>
  a === b || (a !== null && b !== null && JSON.stringify(a) === JSON.stringify(b));

class Integration {
  readonly docs = new Map<string, Working>();
  readonly history: Omit<HistoryEntry, 'version'>[] = [];
  readonly compensating: CompensatingWrite[] = [];
  private readonly touched = new Set<string>();
  /** Every entry of one integration is committed at the same time. */
  private readonly committedAt: string;

  constructor(
    view: IntegrationView,
    private readonly clientId: string,
    private readonly perms: UserPermissions,
    private readonly now: Date,
  ) {
    this.committedAt = now.toISOString();
    for (const [key, d] of view.documents) this.docs.set(key, this.absorb(key, d));
  }

  /**
   * Folds a backend write found in the document's visible copy into its state first (see
   * backend-writes.ts), so a client's change never overwrites what another service wrote
   * before the gateway saw it. Not bound by the client's rules: the other service is trusted.
   */
  private absorb(key: string, d: StoredDocument): Working {
    const before = visibleDocument(d.id, d.state);
    const changes = sameDocument(before, d.doc) ? [] : backendChanges(d, before);
    if (changes.length === 0)
      return { collection: d.collection, id: d.id, state: d.state, doc: before };
    const timestamp = backendTimestamp(this.now, d.state);
    const state = changes.reduce(
      (s, c, i) => applyChange(s, c, backendStamp(timestamp, i)),
      d.state,
    );
    const after = visibleDocument(d.id, state);
    this.touched.add(key);
    if (!sameJson(before, after)) {
      const entry = { collection: d.collection, id: d.id, before, after };
      this.history.push({
        ...entry,
        clientId: BACKEND_CLIENT_ID,
        clientVersion: 0,
        committedAt: this.committedAt,
      });
    }
    const copyIntact = sameDocument(after, d.doc);
    return { collection: d.collection, id: d.id, state, doc: after, copyIntact };
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
    if (!this.mayChange(change, current)) return;
    const state = applyChange(current.state, change, stamp);
    const after = visibleDocument(change.id, state);
    // A write that leaves nothing visible is checked against what it wrote into.
    const checked = after ?? before ?? lastKnownDocument(change.id, state);
    if (!this.perms.canWrite(change.collection, checked)) {
      this.refuse(change, before);
      return;
    }
    this.docs.set(key, { ...current, state, doc: after, copyIntact: false });
    this.touched.add(key);
    if (sameJson(before, after)) return;
    this.history.push({
      collection: change.collection,
      id: change.id,
      clientId: this.clientId,
      clientVersion,
      before,
      after,
      committedAt: this.committedAt,
    });
  }

  /**
   * Whether the user may write to the document as it is; else the change is refused. An
   * UPDATE or DELETE of a deleted document is judged by what it was, so nobody plants
   * fields in another user's document.
   */
  private mayChange(change: Change, current: Working): boolean {
    const before = current.doc;
    if (!before && change.op !== 'INSERT') {
      if (current.state.ins === null) return this.refuseMissing(change);
      const was = lastKnownDocument(change.id, current.state);
      return this.perms.canWrite(change.collection, was) || this.refuse(change, null);
    }
    return !before || this.perms.canWrite(change.collection, before) || this.refuse(change, before);
  }

  changedDocuments(): Working[] {
    return [...this.touched]
      .map((key) => this.docs.get(key))
      .filter((d): d is Working => d !== undefined);
  }

  /**
   * A write rule refused the change. The server's copy goes back only to a caller who may
   * read it: anyone else learns nothing of the document, and drops their copy.
   */
  private refuse(change: Change, serverDoc: JsonObject | null): false {
    const reason = `PERMISSION_DENIED: ${change.op} refused by the ${this.perms.describeWrite(change.collection)}`;
    const readable = serverDoc && this.perms.canRead(change.collection, serverDoc);
    return this.compensate(change, reason, readable ? serverDoc : null);
  }

  /**
   * An UPDATE or DELETE of a document that was never created: it would plant fields, or a
   * delete stamp, into a document somebody may create later.
   */
  private refuseMissing(change: Change): false {
    const reason = `NOT_FOUND: ${change.op} of a document that does not exist; insert it first`;
    return this.compensate(change, reason, null);
  }

  private compensate(change: Change, reason: string, document: JsonObject | null): false {
    this.compensating.push({ collection: change.collection, id: change.id, reason, document });
    return false;
  }
}

/** Refuses uploads of a session that must reset or is paused; the gateway's own never is. */
function checkSessionAccepts(session: SessionRecord, now: Date): void {
  if (session.userId === SYSTEM_USER) return;
  if (session.resetRequired) {
    throw new SyncError(
      'CLIENT_RESET_REQUIRED',
      `session ${session.id} must reset: it was offline too long`,
    );
  }
  if (isPaused(session.pause, 'UPLOAD', now)) {
    throw new SyncError(
      'SESSION_PAUSED',
      `session ${session.id} is paused for uploads; nothing was written`,
    );
  }
}

/** Builds the plan that integrates `changesets` for the session's client. */
export function planIntegration(
  changesets: readonly Changeset[],
  perms: UserPermissions,
  report: UploadReport,
) {
  return (view: IntegrationView): IntegrationWrites<UploadResult> => {
    const { session } = view;
    checkSessionAccepts(session, report.now);
    const work = new Integration(view, session.clientId, perms, report.now);
    let last = session.lastIntegratedClientVersion;
    let bytes = 0;
    let applied = 0;
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
      bytes += changesetBytes(cs);
      applied += cs.changes.length;
    });
    const refused = work.compensating;
    return {
      session: accountUpload(session, { integratedTo: last, integratedBytes: bytes, ...report }),
      documents: work.changedDocuments(),
      history: work.history,
      result: {
        lastIntegratedClientVersion: last,
        compensatingWrites: refused,
        changesIntegrated: applied - refused.length,
      },
    };
  };
}
