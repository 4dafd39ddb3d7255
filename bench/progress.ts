/**
 * Progress lines of the fan-out scenario's processes, for diagnosing a slow or stalled setup
 * (BENCH_FANOUT_PROGRESS=1, or a number of seconds between lines; default 5): each client
 * process logs its sockets opened, sessions opened and subscriptions acknowledged; the
 * server process and each client process log their event-loop lag, CPU, heap and open
 * TCP sockets and files.
 */
import { readdirSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileLimit } from './file-limit.js';

const setting = process.env.BENCH_FANOUT_PROGRESS;
/** Seconds between progress lines; 0: none. */
export const PROGRESS_S = !setting || setting === '0' ? 0 : setting === '1' ? 5 : Number(setting);

const t0 = Date.now();
const stamp = () => `${((Date.now() - t0) / 1000).toFixed(0).padStart(4)} s`;
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

export interface SetupCounters {
  total: number;
  opened: number;
  sessions: number;
  subscribed: number;
  failed: number;
}

/** Logs `counters` every PROGRESS_S seconds until the returned stop is called. */
export function logSetup(label: string, counters: SetupCounters): () => void {
  if (!PROGRESS_S) return () => undefined;
  const line = (final = '') => {
    const { total, opened, sessions, subscribed, failed } = counters;
    console.log(
      `  [${label} ${stamp()}] ${subscribed}/${total} subscribed, ${sessions} sessions,` +
        ` ${opened} sockets, ${failed} failed${final}`,
    );
  };
  const timer = setInterval(line, PROGRESS_S * 1000);
  return () => (clearInterval(timer), line(' (done)'));
}

/** Logs this process's loop lag, CPU, heap and open TCP sockets every PROGRESS_S seconds. */
export function monitorProcess(label: string): void {
  if (!PROGRESS_S) return;
  const resolution = 10;
  const delay = monitorEventLoopDelay({ resolution });
  delay.enable();
  let cpu = process.cpuUsage();
  let at = Date.now();
  const timer = setInterval(() => {
    const used = process.cpuUsage(cpu);
    const ms = Date.now() - at;
    [cpu, at] = [process.cpuUsage(), Date.now()];
    const sockets = process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
    const files = openFiles();
    const { heapUsed, rss } = process.memoryUsage();
    // The histogram holds the whole timer intervals: the lag is what exceeds the resolution.
    const p = (q: number) => `${Math.max(0, delay.percentile(q) / 1e6 - resolution).toFixed(0)}`;
    console.log(
      `  [${label} ${stamp()}] loop lag p50 ${p(50)} p99 ${p(99)} max ${p(100)} ms,` +
        ` CPU ${(((used.user + used.system) / 1000 / ms) * 100).toFixed(0)}%,` +
        ` heap ${mib(heapUsed)}, rss ${mib(rss)}, ${sockets} TCP sockets, ${files} files open` +
        ` (limit ${fileLimit(process.pid)?.soft ?? '?'})`,
    );
    delay.reset();
  }, PROGRESS_S * 1000);
  timer.unref();
}

/** This process's open file descriptors (Linux); '?' elsewhere. */
function openFiles(): number | string {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return '?';
  }
}
