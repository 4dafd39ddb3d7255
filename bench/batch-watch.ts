/**
 * Counts, in the gateway's process, the download batches its streams make through the
 * batch memo (src/sync/batch-memo.ts, SyncCore's private `batches`) and how many of them
 * were new objects: a batch shared by many sessions is executed and serialized once
 * (src/server/shared-execution.ts), a new one once more. Wraps `make` on that instance, as
 * gateway.ts wraps the store writer's `integrateGroup`.
 */
export interface BatchStats {
  /** Batches handed to streams. */
  made: number;
  /** Of those, objects not handed out before (each executed and serialized again). */
  fresh: number;
  /** Changes in the batches handed out (a batch of a stream that fell behind holds more). */
  changes: number;
}

interface Memo {
  make(...args: unknown[]): object;
}

/**
 * Experiment (BENCH_SHARE_LARGE_BATCHES=1): batches of more than the memo's 32 changes
 * shared too, keyed as the memo keys its own, the newest 64 kept; what the gateway would do
 * if the memo's bound on changes were lifted for history batches.
 */
const SHARE_LARGE = process.env.BENCH_SHARE_LARGE_BATCHES === '1';

type Make = (...args: unknown[]) => object;
interface Change {
  serverVersion: number;
  op: string;
}

function shareLarge(make: Make): Make {
  const held = new Map<string, object>();
  return (...args) => {
    const [from, to, changes, latest, versions] = args as [
      number,
      number,
      Change[],
      number,
      { queriesVersion: number; bootstrapUntil?: number },
    ];
    if (changes.length <= 32 || versions.bootstrapUntil !== undefined) return make(...args);
    const ops = changes.map((c) => `${c.serverVersion}${c.op === 'UPSERT' ? 'u' : 'r'}`);
    const key = `${from}:${to}:${latest}:${versions.queriesVersion}:${ops.join(',')}`;
    let batch = held.get(key);
    if (!batch) {
      batch = make(...args);
      held.set(key, batch);
      if (held.size > 64) held.delete(held.keys().next().value!);
    }
    return batch;
  };
}

export function watchBatches(core: unknown): BatchStats | null {
  const memo = (core as { batches?: Memo }).batches;
  if (!memo || typeof memo.make !== 'function') return null;
  const original = SHARE_LARGE ? shareLarge(memo.make.bind(memo)) : memo.make.bind(memo);
  const seen = new WeakSet<object>();
  const stats: BatchStats = { made: 0, fresh: 0, changes: 0 };
  memo.make = (...args: unknown[]) => {
    const batch = original(...args);
    stats.made += 1;
    stats.changes += (args[2] as unknown[]).length;
    if (!seen.has(batch)) {
      seen.add(batch);
      stats.fresh += 1;
    }
    return batch;
  };
  return stats;
}
