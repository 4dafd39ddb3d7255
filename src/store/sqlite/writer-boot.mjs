// The writer thread's start from the TypeScript sources (tests, `npm run dev`): registers
// tsx's loader in this thread, then runs writer-worker.ts. The build runs the compiled
// writer-worker.js directly (writer-thread.ts).
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
