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

interface CheckpointRow {
  busy: number;
  log: number;
  checkpointed: number;
}

function checkpoint(): CheckpointReply {
  try {
    const [row] = db.pragma('wal_checkpoint(PASSIVE)') as CheckpointRow[];
    return { ok: true, busy: row!.busy === 1, log: row!.log, checkpointed: row!.checkpointed };
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    return { ok: false, error: { name: e.name, message: e.message } };
  }
}

port.on('message', (request: CheckpointRequest) => {
  if (request === 'checkpoint') return port.postMessage(checkpoint());
  db.close();
  port.close();
});
