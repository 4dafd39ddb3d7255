/**
 * The driver half of the MongoDB store's group commit: inside one transaction, reads
 * everything a group of integrations touches (one read per kind: the history counter, the
 * sessions, the documents), runs the group's plans in memory (group-plan.ts), and writes
 * the result with one counter update and bulk writes. Operations of one session run one
 * after the other (a session must not run operations concurrently:
 * https://www.mongodb.com/docs/drivers/node/current/crud/transactions/). Every operation
 * used here is allowed in a transaction
 * (https://www.mongodb.com/docs/manual/core/transactions-operations/).
 *
 * The history counter serialises the gateways: every group that commits an integration
 * updates it, so concurrent groups (of other gateways) write-conflict and commit one after
 * the other. A transaction reads a snapshot and fails with a write conflict (a
 * TransientTransactionError, retried whole by withTransaction) when it writes a document
 * another transaction changed since, so the counter read first is still the counter when
 * the group advances it: versions follow commit order, and an aborted transaction hands
 * nothing out, so they stay contiguous and are never reused
 * (https://www.mongodb.com/docs/manual/core/transactions-production-consideration/#in-progress-transactions-and-write-conflicts).
 */
import type { AnyBulkWriteOperation, ClientSession } from 'mongodb';
import { documentKey } from '../port.js';
import type { DocumentKey, StoredDocument } from '../../sync/model.js';
import { HISTORY_COUNTER, type SessionDoc, type SyncCollections } from './collections.js';
import { readDocuments, writeDocuments } from './documents.js';
import { planGroup } from './group-plan.js';
import type { GroupJob, GroupOutcome, GroupRead, GroupWrites } from './group-plan.js';
import { historyToDoc, sessionUpdate, toSession } from './rows.js';

/**
 * The body of a group's transaction: reads, plans, writes; returns each job's outcome. It
 * starts from what it reads every time, so withTransaction may run it again.
 */
export async function integrateGroup(
  c: SyncCollections,
  jobs: readonly GroupJob[],
  session: ClientSession,
): Promise<GroupOutcome[]> {
  const { outcomes, writes } = planGroup(jobs, await readGroup(c, jobs, session));
  await writeGroup(c, writes, session);
  return outcomes;
}

/** The group's keys, each once. */
function distinctKeys(jobs: readonly GroupJob[]): DocumentKey[] {
  const keys = new Map<string, DocumentKey>();
  for (const job of jobs) for (const key of job.keys) keys.set(documentKey(key), key);
  return [...keys.values()];
}

/** The counter, the sessions and the documents of the group's jobs. */
export async function readGroup(
  c: SyncCollections,
  jobs: readonly GroupJob[],
  session: ClientSession,
): Promise<GroupRead> {
  const counter = await c.counters.findOne({ _id: HISTORY_COUNTER }, { session });
  const ids = [...new Set(jobs.map((j) => j.sessionId))];
  const rows = await c.sessions.find({ _id: { $in: ids } }, { session }).toArray();
  const found = await readDocuments(c, distinctKeys(jobs), { session });
  const documents = new Map<string, StoredDocument>();
  for (const doc of found) if (doc) documents.set(documentKey(doc), doc);
  return {
    latest: counter?.seq ?? 0,
    sessions: new Map(rows.map((row) => [row._id, toSession(row)])),
    documents,
  };
}

/** Writes what the group's successful integrations decided; nothing when none did. */
export async function writeGroup(
  c: SyncCollections,
  writes: GroupWrites,
  session: ClientSession,
): Promise<void> {
  if (writes.committed === 0) return;
  await advanceCounter(c, writes, session);
  if (writes.history.length > 0) {
    const docs = writes.history.map((h) => historyToDoc(h, h.version));
    await c.history.insertMany(docs, { ordered: true, session });
  }
  await writeDocuments(c, writes.documents, session);
  await patchSessions(c, writes.sessions, session);
}

/**
 * The group's one counter update: `seq` by the versions it hands out, `integrations` by
 * the integrations it commits. It must land where the group's read left the counter (see
 * above); anything else aborts the group rather than hand out a version twice.
 */
async function advanceCounter(
  c: SyncCollections,
  writes: GroupWrites,
  session: ClientSession,
): Promise<void> {
  const counter = await c.counters.findOneAndUpdate(
    { _id: HISTORY_COUNTER },
    { $inc: { seq: writes.latest - writes.base, integrations: writes.committed } },
    { upsert: true, returnDocument: 'after', session },
  );
  if (counter?.seq !== writes.latest) {
    throw new Error(
      `the history counter moved during a transaction: read ${writes.base}, ` +
        `then ${String(counter?.seq)} after handing out ${writes.latest - writes.base}`,
    );
  }
}

/** One bulkWrite: an updateOne per session with the fields its integrations patched. */
async function patchSessions(
  c: SyncCollections,
  patches: GroupWrites['sessions'],
  session: ClientSession,
): Promise<void> {
  const ops: AnyBulkWriteOperation<SessionDoc>[] = [];
  for (const [id, patch] of patches) {
    const update = sessionUpdate(patch);
    if (update) ops.push({ updateOne: { filter: { _id: id }, update } });
  }
  if (ops.length > 0) await c.sessions.bulkWrite(ops, { ordered: true, session });
}
