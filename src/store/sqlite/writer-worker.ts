/**
 * The SQLite writer thread: owns the store's one writing connection and runs every write
 * the store's thread sends, in the order sent (writer-thread.ts). Integration plans arrive
 * as sources and are built here (plan-source.ts); each group is one transaction with its
 * fsync, which no longer holds the gateway's event loop. Its checkpoints are mostly the
 * checkpointer thread's (checkpointer.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { planFromSource } from '../plan-source.js';
import { openConnection } from './connection.js';
import {
  fillIn,
  readyOf,
  SqliteWrites,
  type IntegrationJob,
  type Outcome,
} from './sqlite-writes.js';
import {
  toCrossing,
  type CrossingOutcome,
  type SourcedJob,
  type WriterReply,
  type WriterRequest,
} from './thread-messages.js';

const { path, walPages } = workerData as { path: string; walPages: number };
const db = openConnection(path);
const writes = new SqliteWrites(db);
// The checkpointer thread copies the WAL beside the writes (checkpointer.ts); this
// connection checkpoints only a WAL this long, which it can then start over.
writes.checkpointAt(walPages);
const port = parentPort!;

const crossing = <O>(outcomes: Outcome<O>[]): CrossingOutcome<O>[] =>
  outcomes.map((o) => (o.ok ? o : { ok: false, error: toCrossing(o.error) }));

/** The group's plans built from their sources; a job whose plan fails to build fails alone. */
async function integrate(jobs: SourcedJob[]) {
  const built = await Promise.all(
    jobs.map((job) =>
      planFromSource(job.source).then(
        (plan): Outcome<IntegrationJob> => ({ ok: true, value: { ...job, plan } }),
        (error: unknown): Outcome<IntegrationJob> => ({ ok: false, error }),
      ),
    ),
  );
  return crossing(fillIn(built, writes.integrateGroup(readyOf(built))));
}

async function run(request: WriterRequest): Promise<unknown> {
  switch (request.op) {
    case 'integrate':
      return integrate(request.jobs);
    case 'open':
      return crossing(writes.openGroup(request.candidates));
    case 'write':
      return (writes[request.method] as (...args: unknown[]) => unknown)(...request.args);
    case 'close':
      db.close();
      return null;
  }
}

/**
 * Sends the reply; one whose value does not clone is answered with an error that says so
 * (what it wrote is committed: the caller must hear of it, not wait forever).
 */
function send(reply: WriterReply): void {
  try {
    port.postMessage(reply);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    const message = `the write was done, but its answer could not be sent back: ${why}`;
    port.postMessage({ id: reply.id, ok: false, error: { name: 'Error', message } });
  }
}

/** Requests run one at a time, in the order they came. */
let queue: Promise<void> = Promise.resolve();
port.on('message', (request: WriterRequest) => {
  queue = queue.then(async () => {
    let reply: WriterReply;
    try {
      reply = { id: request.id, ok: true, value: await run(request) };
    } catch (error) {
      reply = { id: request.id, ok: false, error: toCrossing(error) };
    }
    send(reply);
    if (request.op === 'close') port.close();
  });
});
