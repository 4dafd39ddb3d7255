/**
 * The SQLite checkpointer thread (checkpointer.ts): on each request, a PASSIVE checkpoint
 * on a connection of its own, beside the writer's commits, which it never blocks. It copies
 * the WAL's committed pages into the database file and syncs that file, as SQLite's own
 * checkpoint inside a commit would have done on the writer thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openConnection } from './connection.js';
import type { CheckpointReply, CheckpointRequest } from './checkpointer.js';

const db = openConnection((workerData as { path: string }).path);
const port = parentPort!;

/**
 * Another connection holding the file (another gateway's checkpoint, or one recovering
 * the WAL index: SQLITE_BUSY_RECOVERY) only puts the work off to the next checkpoint; a
 * PASSIVE checkpoint reports most of these in its result row, without throwing.
 */
const busy = (error: unknown) =>
  error instanceof Error && String((error as { code?: unknown }).code).startsWith('SQLITE_BUSY');

function checkpoint(): CheckpointReply {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
    return { ok: true };
  } catch (error) {
    if (busy(error)) return { ok: true };
    const e = error instanceof Error ? error : new Error(String(error));
    return { ok: false, error: { name: e.name, message: e.message } };
  }
}

port.on('message', (request: CheckpointRequest) => {
  if (request === 'checkpoint') return port.postMessage(checkpoint());
  db.close();
  port.close();
});
