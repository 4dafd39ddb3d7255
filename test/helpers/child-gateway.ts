/** A gateway in a child process (`node --import tsx src/cli.ts`), for crash and multi-process tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));

export interface ChildGateway {
  proc: ChildProcess;
  url: string;
  wsUrl: string;
  /** Kills the process (SIGKILL unless told) and waits for it to exit. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function startChildGateway(
  dataDir: string,
  env: Record<string, string>,
): Promise<ChildGateway> {
  const args = [
    '--import',
    'tsx',
    'src/cli.ts',
    '--port',
    '0',
    '--host',
    '127.0.0.1',
    '--data-dir',
    dataDir,
  ];
  const proc = spawn(process.execPath, args, {
    cwd: REPO,
    env: { ...process.env, LOG_LEVEL: 'silent', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  proc.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const stop = async (signal: NodeJS.Signals = 'SIGKILL') => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill(signal);
      await once(proc, 'exit');
    }
    return proc.exitCode;
  };
  return new Promise((resolve, reject) => {
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      const port = /sync gateway listening on http:\/\/[^/]+:(\d+)\/graphql/.exec(line)?.[1];
      if (port)
        resolve({
          proc,
          url: `http://127.0.0.1:${port}/graphql`,
          wsUrl: `ws://127.0.0.1:${port}/graphql`,
          stop,
        });
    });
    proc.once('exit', (code, signal) =>
      reject(new Error(`gateway exited (${code ?? signal}) before listening:\n${stderr}`)),
    );
  });
}
