/** The parent side of the client process: one command at a time, awaiting its reply. */
import { Child, forkScript } from './child.js';
import type { Command, Reply } from './protocol.js';

export class ClientProcess extends Child<Command, Reply> {
  /** Forks bench/client-proc.ts under the same loader (tsx) as this process. */
  static start(): ClientProcess {
    return new ClientProcess(forkScript(new URL('./client-proc.ts', import.meta.url)));
  }
}
