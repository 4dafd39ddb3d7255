/**
 * The server process of the fan-out and memory scenarios: the gateway (a fresh temp dir,
 * the shared-collection rules) or one of the floors, on its own event loop. Started with
 * --expose-gc so its heap can be measured after a full collection.
 */
import { writeHeapSnapshot } from 'node:v8';
import type { ServerCommand, ServerMode, ServerReply } from './fanout-protocol.js';
import { startFanoutFloor } from './floor-fanout.js';
import { startYogaFloor } from './floor-yoga.js';
import { startBenchGateway, type BenchGateway } from './gateway.js';
import { startProfile, stopProfile } from './profiler.js';
import { watchBatches, type BatchStats } from './batch-watch.js';
import { monitorProcess, PROGRESS_S } from './progress.js';
import { SHARED_RULES } from './shared-rules.js';

const reply = (message: ServerReply): void => void process.send!(message);

let gateway: BenchGateway | null = null;

/** Logs the batches made since the last line (with the progress lines). */
function monitorBatches(stats: BatchStats): void {
  if (!PROGRESS_S) return;
  let last = { ...stats };
  setInterval(() => {
    const [made, fresh, changes] = [
      stats.made - last.made,
      stats.fresh - last.fresh,
      stats.changes - last.changes,
    ];
    last = { ...stats };
    if (made === 0) return;
    console.log(
      `  [gateway batches] ${made} handed out, ${fresh} of them new objects` +
        ` (${((fresh / made) * 100).toFixed(1)}%), ${(changes / made).toFixed(2)} changes/batch`,
    );
  }, PROGRESS_S * 1000).unref();
}

async function start(mode: ServerMode): Promise<string> {
  monitorProcess(mode);
  if (mode === 'fanout-floor') return startFanoutFloor();
  if (mode === 'memory-floor') return startYogaFloor();
  gateway = await startBenchGateway({ rules: SHARED_RULES });
  const batches = watchBatches(gateway.gateway.core);
  if (batches) monitorBatches(batches);
  return gateway.gateway.wsUrl;
}

/** Heap after full collections (repeated: finalizers and weak references free more). */
function heap(): ServerReply {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('server process started without --expose-gc');
  for (let i = 0; i < 4; i++) gc();
  const { heapUsed, external } = process.memoryUsage();
  return { type: 'heap', heapUsed, external };
}

async function exit(): Promise<never> {
  // The temp dir goes; the sockets are cut by the exit.
  await Promise.race([gateway?.close(), new Promise((r) => setTimeout(r, 5000))]);
  process.exit(0);
}

async function handle(command: ServerCommand): Promise<void> {
  switch (command.type) {
    case 'start':
      return reply({ type: 'started', wsUrl: await start(command.mode) });
    case 'heap':
      return reply(heap());
    case 'snapshot':
      heap();
      writeHeapSnapshot(command.path);
      return reply({ type: 'snapshotted' });
    case 'profile-start':
      await startProfile();
      return reply({ type: 'profiling' });
    case 'profile-stop':
      await stopProfile(command.path);
      return reply({ type: 'profiled' });
    case 'exit':
      return exit();
  }
}

// The runner is gone (it failed or was killed): close and remove the temp dir, then exit.
process.on('disconnect', () => void exit());

process.on('message', (command: ServerCommand) => {
  handle(command).catch((error: unknown) =>
    reply({ type: 'error', message: error instanceof Error ? error.message : String(error) }),
  );
});
