/** The parent side of the client process: one command at a time, awaiting its reply. */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Command, Reply } from './protocol.js';

type ReplyOf<T extends Reply['type']> = Extract<Reply, { type: T }>;

interface Waiting {
  expect: Reply['type'];
  resolve: (reply: Reply) => void;
  reject: (error: Error) => void;
}

export class ClientProcess {
  private waiting: Waiting | null = null;

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (reply: Reply) => this.receive(reply));
    child.on('exit', (code) => this.fail(new Error(`client process exited (code ${code})`)));
  }

  /** Forks bench/client-proc.ts under the same loader (tsx) as this process. */
  static start(): ClientProcess {
    const path = fileURLToPath(new URL('./client-proc.ts', import.meta.url));
    return new ClientProcess(fork(path, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  }

  send(command: Command): void {
    this.child.send(command);
  }

  call<T extends Reply['type']>(command: Command, expect: T): Promise<ReplyOf<T>> {
    if (this.waiting) throw new Error('client process: one command at a time');
    const reply = new Promise<Reply>((resolve, reject) => {
      this.waiting = { expect, resolve, reject };
    });
    this.send(command);
    return reply as Promise<ReplyOf<T>>;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.send({ type: 'exit' });
    await exited;
  }

  private receive(reply: Reply): void {
    const waiting = this.waiting;
    this.waiting = null;
    if (!waiting) return;
    if (reply.type === 'error') waiting.reject(new Error(`client process: ${reply.message}`));
    else if (reply.type !== waiting.expect) waiting.reject(new Error(`unexpected ${reply.type}`));
    else waiting.resolve(reply);
  }

  private fail(error: Error): void {
    this.waiting?.reject(error);
    this.waiting = null;
  }
}
