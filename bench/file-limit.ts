/**
 * A bench process's limit on open files (`ulimit -n`, RLIMIT_NOFILE), raised for a process
 * that will hold many sockets: each socket is a file descriptor, and a server past its limit
 * does not fail visibly (libuv accepts and closes the connections it cannot keep), so the
 * clients' sockets past it fail and a large fan-out run ends early.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

interface FileLimit {
  soft: number;
  hard: number;
}

const asLimit = (text: string) => (text === 'unlimited' ? Infinity : Number(text));

/** RLIMIT_NOFILE of process `pid`, from /proc (Linux); null where there is none. */
export function fileLimit(pid: number): FileLimit | null {
  try {
    const line = readFileSync(`/proc/${pid}/limits`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const [soft, hard] = line!.slice('Max open files'.length).trim().split(/\s+/);
    return { soft: asLimit(soft!), hard: asLimit(hard!) };
  } catch {
    return null;
  }
}

/**
 * Makes sure process `pid` may open `need` files: raises its soft limit (and its hard one
 * if need be, which takes CAP_SYS_RESOURCE, e.g. root) with util-linux's `prlimit`; throws,
 * saying what to do, when it cannot.
 */
export function ensureFileLimit(pid: number, need: number, name: string): void {
  const before = fileLimit(pid);
  if (!before || before.soft >= need) return;
  const hard = Math.max(before.hard, need);
  try {
    execFileSync('prlimit', [`--pid=${pid}`, `--nofile=${need}:${hard}`], { stdio: 'pipe' });
  } catch {
    // checked below
  }
  const after = fileLimit(pid);
  if (after && after.soft >= need) return;
  throw new Error(
    `the ${name} process may open ${after?.soft ?? before.soft} files (ulimit -n, hard limit` +
      ` ${after?.hard ?? before.hard}) but needs ${need} for its sockets, and prlimit could` +
      ` not raise it: raise the limit (ulimit -n ${need}, or the hard one as root) or run fewer sessions`,
  );
}
