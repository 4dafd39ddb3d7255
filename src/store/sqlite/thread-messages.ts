/**
 * What the SQLite store's thread and its writer thread tell each other (writer-thread.ts,
 * writer-worker.ts), and errors as they cross: a SyncError keeps its code and field.
 */
import { SyncError, type ErrorCode } from '../../errors.js';
import type { PlanSource } from '../port.js';
import type { DocumentKey, SessionRecord } from '../../sync/model.js';
import type { SqliteWrites } from './sqlite-writes.js';

/** The writes the writer thread runs as they are, one call each. */
export type DirectWrite =
  | 'updateSession'
  | 'createScopeIndexes'
  | 'compactHistory'
  | 'expireSessions'
  | 'touchSessions'
  | 'acknowledgeDownloads'
  | 'checkpointAt';

export interface SourcedJob {
  sessionId: string;
  keys: readonly DocumentKey[];
  source: PlanSource;
}

export type WriterRequest = { id: number } & (
  | { op: 'integrate'; jobs: SourcedJob[] }
  | { op: 'open'; candidates: SessionRecord[] }
  | { op: 'write'; method: DirectWrite; args: Parameters<SqliteWrites[DirectWrite]> }
  | { op: 'close' }
);

export type WriterReply = { id: number } & (
  { ok: true; value: unknown } | { ok: false; error: CrossingError }
);

/** An outcome of a group's item, its error made to cross. */
export type CrossingOutcome<O> = { ok: true; value: O } | { ok: false; error: CrossingError };

export interface CrossingError {
  name: string;
  message: string;
  code?: string;
  field?: string;
}

/** An error as it crosses to the other thread. */
export function toCrossing(error: unknown): CrossingError {
  if (error instanceof SyncError) {
    return { name: error.name, message: error.message, code: error.code, field: error.field };
  }
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: 'Error', message: String(error) };
}

/** The error again, on this side: a SyncError as it was thrown, any other as an Error. */
export function fromCrossing(e: CrossingError): Error {
  if (e.name === 'SyncError' && e.code !== undefined) {
    return new SyncError(e.code as ErrorCode, e.message, e.field);
  }
  const error = new Error(e.message);
  error.name = e.name;
  return error;
}
