/**
 * Copying a deployment from one store to another (`sync-gateway migrate`): its sessions, its
 * documents (mergeable state and visible value), its history and its last server version,
 * page by page, so memory stays bounded whatever the size. Clients carry on where they
 * were: session ids, acknowledged versions and server versions are kept as they are.
 */
import type { DocumentKey, HistoryEntry, SessionRecord, StoredDocument } from '../sync/model.js';

/** A failure the user can fix (wrong path, non-empty target, unfinished copy): one line. */
export class MigrationError extends Error {
  override name = 'MigrationError';
}

/** A store read as of one point in time, in key order. */
export interface ExportSource {
  /** Where the data comes from, e.g. the SQLite file's path. */
  readonly description: string;
  counts(): Promise<Record<MigrationStage, number>>;
  sessions(afterId: string, limit: number): Promise<SessionRecord[]>;
  documents(after: DocumentKey | null, limit: number): Promise<StoredDocument[]>;
  history(afterVersion: number, limit: number): Promise<HistoryEntry[]>;
  /** The last server version handed out (history may have been compacted past it). */
  lastVersion(): Promise<number>;
}

/** A store being filled; every write is an upsert, so an interrupted copy can be resumed. */
export interface ImportTarget {
  /**
   * Refuses a target holding data, unless it is an unfinished copy from the same source,
   * which is then resumed; marks the copy as started.
   */
  begin(source: string, startedAt: string): Promise<'fresh' | 'resumed'>;
  putSessions(sessions: readonly SessionRecord[]): Promise<void>;
  putDocuments(documents: readonly StoredDocument[]): Promise<void>;
  putHistory(entries: readonly HistoryEntry[]): Promise<void>;
  /** Sets the last server version handed out and marks the copy finished. */
  finish(lastVersion: number, finishedAt: string): Promise<void>;
}

export type MigrationStage = 'sessions' | 'documents' | 'history';

export interface MigrationProgress {
  stage: MigrationStage;
  /** Rows of this stage copied so far, and in all. */
  done: number;
  total: number;
}

export interface MigrationReport {
  start: 'fresh' | 'resumed';
  copied: Record<MigrationStage, number>;
  lastVersion: number;
}

export interface MigrationOptions {
  pageSize?: number;
  now?: () => Date;
  onProgress?: (progress: MigrationProgress) => void;
}

/** Copies `source` into `target`, one page at a time. */
export async function migrate(
  source: ExportSource,
  target: ImportTarget,
  options: MigrationOptions = {},
): Promise<MigrationReport> {
  const pageSize = options.pageSize ?? 500;
  const now = options.now ?? (() => new Date());
  const report = options.onProgress ?? (() => {});
  const totals = await source.counts();
  const start = await target.begin(source.description, now().toISOString());
  const copied: Record<MigrationStage, number> = { sessions: 0, documents: 0, history: 0 };
  const copyStage = async <T>(stage: MigrationStage, pages: AsyncIterable<T[]>, put: Put<T>) => {
    report({ stage, done: 0, total: totals[stage] });
    for await (const page of pages) {
      await put(page);
      copied[stage] += page.length;
      report({ stage, done: copied[stage], total: Math.max(totals[stage], copied[stage]) });
    }
  };
  await copyStage('sessions', pagesOf(source, 'sessions', pageSize), (p) => target.putSessions(p));
  await copyStage('documents', pagesOf(source, 'documents', pageSize), (p) =>
    target.putDocuments(p),
  );
  await copyStage('history', pagesOf(source, 'history', pageSize), (p) => target.putHistory(p));
  const lastVersion = await source.lastVersion();
  await target.finish(lastVersion, now().toISOString());
  return { start, copied, lastVersion };
}

type Put<T> = (page: T[]) => Promise<void>;

interface Rows {
  sessions: SessionRecord;
  documents: StoredDocument;
  history: HistoryEntry;
}

/** The pages of one stage, each read after the last key of the one before. */
async function* pagesOf<S extends MigrationStage>(
  source: ExportSource,
  stage: S,
  pageSize: number,
): AsyncGenerator<Rows[S][]> {
  const read = readerOf(source, stage);
  let last: Rows[S] | undefined;
  for (;;) {
    const page = await read(last, pageSize);
    if (page.length > 0) yield page;
    if (page.length < pageSize) return;
    last = page[page.length - 1];
  }
}

type Reader<T> = (last: T | undefined, limit: number) => Promise<T[]>;

function readerOf<S extends MigrationStage>(source: ExportSource, stage: S): Reader<Rows[S]> {
  const readers: { [K in MigrationStage]: Reader<Rows[K]> } = {
    sessions: (last, limit) => source.sessions(last?.id ?? '', limit),
    documents: (last, limit) =>
      source.documents(last ? { collection: last.collection, id: last.id } : null, limit),
    history: (last, limit) => source.history(last?.version ?? 0, limit),
  };
  return readers[stage];
}
