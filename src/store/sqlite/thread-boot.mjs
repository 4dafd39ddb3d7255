// A store thread's start from the TypeScript sources (tests, `npm run dev`): registers
// tsx's loader in this thread, then runs the thread's script (writer-worker.ts,
// checkpoint-worker.ts). The build runs the compiled scripts directly (thread-start.ts).
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
