/**
 * The pure half of the MongoDB store's group commit: runs the plans of a group of
 * integrations one after another over what the group's transaction read, in memory, and
 * collects what the group writes. No driver here: the transaction around it is
 * group-transaction.ts.
 *
 * MongoDB has no savepoints, so the group is applied in memory instead: each plan sees the
 * session and documents as the integrations before it in the group left them, versions are
 * handed out consecutively in item order (as one transaction per integration would, one
 * after the other), and a plan that throws gets its error as its outcome and leaves no
 * trace. Nothing read is mutated, so running the same group again over a fresh read (a
 * transaction retried after a write conflict) starts from scratch.
 */
import { documentKey } from '../port.js';
import type { IntegrationOutcome, IntegrationPlan, IntegrationWrites } from '../port.js';
import type { UploadSessionPatch } from '../port.js';
import type { DocumentKey, HistoryEntry, SessionRecord, StoredDocument } from '../../sync/model.js';

/** One integration of a group, as `SyncStore.integrate` was called. */
export interface GroupJob {
  sessionId: string;
  keys: readonly DocumentKey[];
  plan: IntegrationPlan<unknown>;
}

/** What the group's transaction read for its plans. */
export interface GroupRead {
  /** The last server version handed out (the history counter; 0 when it has none). */
  latest: number;
  /** The sessions of the group's jobs that exist, by id. */
  sessions: ReadonlyMap<string, SessionRecord>;
  /** The documents of the group's keys that exist, by `documentKey`. */
  documents: ReadonlyMap<string, StoredDocument>;
}

export type DocumentWrite = IntegrationWrites<unknown>['documents'][number];

/** A document write with the server version its stored state gets. */
export type VersionedWrite = DocumentWrite & { version: number };

/** Everything a group writes, once its plans have run. */
export interface GroupWrites {
  /** The counter before the group; `latest - base` versions are handed out. */
  base: number;
  /** The last server version handed out once the group commits. */
  latest: number;
  /** How many integrations of the group succeeded. */
  committed: number;
  /** The history entries, numbered base + 1, base + 2, ... in item order. */
  history: HistoryEntry[];
  /**
   * One write per document: the last one of the group; its visible copy is left intact
   * only when every write of the group left it so (the stored copy holds it then).
   */
  documents: VersionedWrite[];
  /** Per session, the fields its integrations patched, later ones over earlier ones. */
  sessions: Map<string, Partial<UploadSessionPatch>>;
}

export type GroupOutcome =
  { ok: true; value: IntegrationOutcome<unknown> } | { ok: false; error: unknown };

export interface GroupPlan {
  outcomes: GroupOutcome[];
  writes: GroupWrites;
}

/** Runs `jobs` in order over `read`; each gets its own outcome. */
export function planGroup(jobs: readonly GroupJob[], read: GroupRead): GroupPlan {
  const group = new GroupState(read);
  const outcomes = jobs.map((job): GroupOutcome => {
    try {
      return { ok: true, value: group.run(job) };
    } catch (error) {
      return { ok: false, error };
    }
  });
  return { outcomes, writes: group.writes() };
}

/** The fields of a patch that are set: an undefined field is not written (rows.ts). */
function setFields<T extends object>(patch: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(patch).filter(([, value]) => value !== undefined),
  ) as Partial<T>;
}

/** What one successful plan adds to the group. */
interface ItemWrites {
  sessionId: string;
  session: Partial<UploadSessionPatch>;
  history: HistoryEntry[];
  documents: VersionedWrite[];
}

/** The group's in-memory view, as the integrations so far left it, and their writes. */
class GroupState {
  private readonly sessions: Map<string, SessionRecord>;
  private readonly documents: Map<string, StoredDocument>;
  private readonly history: HistoryEntry[] = [];
  private readonly written = new Map<string, VersionedWrite>();
  private readonly patches = new Map<string, Partial<UploadSessionPatch>>();
  private latest: number;
  private committed = 0;

  constructor(private readonly read: GroupRead) {
    this.sessions = new Map(read.sessions);
    this.documents = new Map(read.documents);
    this.latest = read.latest;
  }

  /** Plans one job over the current view; applies its writes only once it has returned. */
  run(job: GroupJob): IntegrationOutcome<unknown> {
    const session = this.sessions.get(job.sessionId);
    if (!session) throw new Error(`session ${job.sessionId} vanished during integration`);
    const documents = this.viewOf(job.keys);
    const planned = job.plan({ session, documents });
    this.apply(this.versioned(job.sessionId, planned, documents));
    return { result: planned.result, serverVersion: this.latest };
  }

  /** The existing documents of `keys`, as the plan of one integration sees them. */
  private viewOf(keys: readonly DocumentKey[]): Map<string, StoredDocument> {
    const view = new Map<string, StoredDocument>();
    for (const key of keys) {
      const doc = this.documents.get(documentKey(key));
      if (doc) view.set(documentKey(doc), doc);
    }
    return view;
  }

  /**
   * Numbers the plan's history entries from the next version; a written document gets the
   * version of its last entry, or keeps the one its plan saw when it has none.
   */
  private versioned(
    sessionId: string,
    planned: IntegrationWrites<unknown>,
    view: ReadonlyMap<string, StoredDocument>,
  ): ItemWrites {
    const history = planned.history.map((h, i) => ({ ...h, version: this.latest + 1 + i }));
    const versions = new Map(history.map((h) => [documentKey(h), h.version]));
    const documents = planned.documents.map((d) => {
      const key = documentKey(d);
      return { ...d, version: versions.get(key) ?? view.get(key)?.version ?? 0 };
    });
    return { sessionId, session: setFields(planned.session), history, documents };
  }

  private apply(item: ItemWrites): void {
    const session = this.sessions.get(item.sessionId)!;
    this.sessions.set(item.sessionId, { ...session, ...item.session });
    const patched = this.patches.get(item.sessionId);
    this.patches.set(item.sessionId, { ...patched, ...item.session });
    for (const d of item.documents) this.applyDocument(d);
    this.history.push(...item.history);
    this.latest += item.history.length;
    this.committed += 1;
  }

  private applyDocument(d: VersionedWrite): void {
    const key = documentKey(d);
    const { collection, id, state, doc, version } = d;
    this.documents.set(key, { collection, id, state, doc, version });
    const earlier = this.written.get(key);
    const copyIntact = (earlier ? earlier.copyIntact === true : true) && d.copyIntact === true;
    this.written.set(key, { ...d, copyIntact });
  }

  writes(): GroupWrites {
    return {
      base: this.read.latest,
      latest: this.latest,
      committed: this.committed,
      history: this.history,
      documents: [...this.written.values()],
      sessions: this.patches,
    };
  }
}
