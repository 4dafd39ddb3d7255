/**
 * The store contract's integration plans (test/store-contract.ts), built by factories of
 * data only and carrying their source: a store that integrates on its writer thread builds
 * them there (src/store/plan-source.ts). What a plan saw comes back in its result.
 */
import { threadId } from 'node:worker_threads';
import {
  documentKey,
  sourcedPlan,
  type IntegrationPlan,
  type UploadSessionPatch,
} from '../../src/store/port.js';
import type {
  DocumentKey,
  DocumentState,
  JsonObject,
  SessionRecord,
  StoredDocument,
} from '../../src/sync/model.js';

export const T1 = '2026-11-26T13:00:00.000Z';
const STAMP = '2026-11-26T12:00:00.000Z-0001|client|000000';
const HERE = import.meta.url;

export interface Put {
  key: DocumentKey;
  doc: JsonObject | null;
}

/** The mergeable state of a document written whole at STAMP (or deleted when null). */
export function stateOf(doc: JsonObject | null): DocumentState {
  const fields = Object.entries(doc ?? {}).filter(([name]) => name !== '_id');
  return {
    fields: Object.fromEntries(fields.map(([name, v]) => [name, { v, s: STAMP }])),
    ins: doc ? STAMP : null,
    del: doc ? null : STAMP,
  };
}

export function uploadPatch(session: SessionRecord, clientVersion: number): UploadSessionPatch {
  return {
    lastIntegratedClientVersion: clientVersion,
    latestClientVersion: Math.max(session.latestClientVersion, clientVersion),
    uploadedBytes: session.uploadedBytes + 10,
    pendingBytes: 0,
    uploadBaselineBytes: session.uploadBaselineBytes,
    lastSyncedAt: T1,
  };
}

/** Writes each document, one history entry per document, and the session. */
export function putPlanOf(puts: Put[], clientVersion: number, committedAt: string) {
  const plan: IntegrationPlan<string> = (view) => ({
    session: uploadPatch(view.session, clientVersion),
    documents: puts.map((p) => ({ ...p.key, state: stateOf(p.doc), doc: p.doc })),
    history: puts.map((p) => ({
      ...p.key,
      clientId: view.session.clientId,
      clientVersion,
      before: view.documents.get(documentKey(p.key))?.doc ?? null,
      after: p.doc,
      committedAt,
    })),
    result: `${view.session.clientId}@${clientVersion}`,
  });
  return plan;
}

/** `count` documents of user u1, ids `<tag>-<i>`, each padded with `bytes` characters. */
export function paddedPuts(tag: string, count: number, bytes: number): Put[] {
  const pad = 'x'.repeat(bytes);
  return Array.from({ length: count }, (_, i) => ({
    key: { collection: 'items', id: `${tag}-${i}` },
    doc: { _id: `${tag}-${i}`, ownerId: 'u1', pad },
  }));
}

export const putPlan = (puts: Put[], clientVersion = 1, committedAt = T1) =>
  sourcedPlan(HERE, 'putPlanOf', putPlanOf, puts, clientVersion, committedAt);

export function failingOf(message: string): IntegrationPlan<never> {
  return () => {
    throw new Error(message);
  };
}

export const failing = (message: string) => sourcedPlan(HERE, 'failingOf', failingOf, message);

/** What a plan was shown: the session and the documents, by key. */
export interface Seen {
  session: SessionRecord;
  documents: [string, StoredDocument][];
}

/** Writes only the session (at `clientVersion`); its result is what it was shown. */
export function viewPlanOf(clientVersion: number): IntegrationPlan<Seen> {
  return (view) => ({
    session: uploadPatch(view.session, clientVersion),
    documents: [],
    history: [],
    result: { session: view.session, documents: [...view.documents] },
  });
}

export const viewPlan = (clientVersion: number) =>
  sourcedPlan(HERE, 'viewPlanOf', viewPlanOf, clientVersion);

export const COUNTER: DocumentKey = { collection: 'items', id: 'counter' };

/** Reads the counter inside the transaction and writes it plus one; result: what it saw. */
export function incrementPlanOf(tag: string): IntegrationPlan<{ tag: string; seen: number }> {
  return (view) => {
    const seen = Number(view.documents.get(documentKey(COUNTER))?.doc?.n ?? 0);
    const cv = view.session.lastIntegratedClientVersion + 1;
    const doc = { _id: COUNTER.id, n: seen + 1, last: tag };
    return {
      ...putPlanOf([{ key: COUNTER, doc }], cv, T1)(view),
      result: { tag, seen },
    };
  };
}

export const incrementPlan = (tag: string) =>
  sourcedPlan(HERE, 'incrementPlanOf', incrementPlanOf, tag);

/** Writes only the session (at `clientVersion`); its result: the thread it ran on. */
export function threadPlanOf(clientVersion: number): IntegrationPlan<number> {
  return (view) => ({ ...viewPlanOf(clientVersion)(view), result: threadId });
}

export const threadPlan = (clientVersion: number) =>
  sourcedPlan(HERE, 'threadPlanOf', threadPlanOf, clientVersion);
