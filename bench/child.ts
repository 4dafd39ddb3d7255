/**
 * A bench child process driven over IPC: one command at a time, awaiting its reply; a reply
 * `{ type: 'error', message }` rejects. The child is forked under the same loader (tsx).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

interface Message {
  type: string;
}

interface Waiting<R> {
  expect: string;
  resolve: (reply: R) => void;
  reject: (error: Error) => void;
}

export interface ForkOptions {
  /** Node flags added to this process's own (the loader's), e.g. --expose-gc. */
  nodeFlags?: string[];
  /** 'advanced' lets replies carry typed arrays. */
  serialization?: 'json' | 'advanced';
}

export function forkScript(url: URL, options: ForkOptions = {}): ChildProcess {
  return fork(fileURLToPath(url), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv: [...process.execArgv, ...(options.nodeFlags ?? [])],
    serialization: options.serialization ?? 'json',
  });
}

export class Child<C extends Message, R extends Message> {
  private waiting: Waiting<R> | null = null;

  constructor(
    private readonly child: ChildProcess,
    readonly name = 'child process',
  ) {
    child.on('message', (reply: R) => this.receive(reply));
    child.on('exit', (code) => this.fail(new Error(`${name} exited (code ${code})`)));
  }

  send(command: C): void {
    this.child.send(command);
  }

  /** Whether a command is awaiting its reply. */
  get busy(): boolean {
    return this.waiting !== null;
  }

  /** Rejects (sends nothing) while another command awaits its reply. */
  call<T extends R['type']>(command: C, expect: T): Promise<Extract<R, { type: T }>> {
    if (this.waiting) return Promise.reject(new Error(`${this.name}: one command at a time`));
    const reply = new Promise<R>((resolve, reject) => {
      this.waiting = { expect, resolve, reject };
    });
    this.send(command);
    return reply as Promise<Extract<R, { type: T }>>;
  }

  get pid(): number {
    return this.child.pid!;
  }

  /**
   * Asks the child to exit (every protocol has `{ type: 'exit' }`) and waits for it; kills
   * it if it has not exited within `killAfterMs`, so that no child outlives a failed run.
   */
  async stop(killAfterMs = 15_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    if (this.child.connected) this.send({ type: 'exit' } as C);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), killAfterMs);
    await exited;
    clearTimeout(timer);
  }

  private receive(reply: R): void {
    const waiting = this.waiting;
    this.waiting = null;
    if (!waiting) return;
    const message = (reply as { message?: string }).message;
    if (reply.type === 'error') waiting.reject(new Error(`${this.name}: ${message}`));
    else if (reply.type !== waiting.expect) waiting.reject(new Error(`unexpected ${reply.type}`));
    else waiting.resolve(reply);
  }

  private fail(error: Error): void {
    this.waiting?.reject(error);
    this.waiting = null;
  }
}
