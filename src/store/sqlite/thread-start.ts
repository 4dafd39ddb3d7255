/**
 * Starts one of the SQLite store's threads (the writer, the checkpointer): the compiled
 * script beside this module; from the TypeScript sources (tests, `npm run dev`), through
 * tsx's loader, registered in the thread first (thread-boot.mjs).
 */
import { Worker } from 'node:worker_threads';

export type StoreThread = 'writer-worker' | 'checkpoint-worker';

export function startThread(script: StoreThread, data: Record<string, unknown>): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) {
    return new Worker(new URL(`./${script}.js`, here), { workerData: data });
  }
  const entry = new URL(`./${script}.ts`, here).href;
  return new Worker(new URL('./thread-boot.mjs', here), { workerData: { ...data, entry } });
}
