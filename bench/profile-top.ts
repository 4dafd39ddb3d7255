/** The functions with the most self time in a .cpuprofile (the inspector's format), as a table. */
import { readFileSync } from 'node:fs';
import { table } from './stats.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const IDLE = '(idle)';

/** A script's path relative to the repo or to node_modules; node's own as they are. */
function shortUrl(url: string): string {
  const path = url.replace(/^file:\/\//, '');
  const inModules = path.lastIndexOf('/node_modules/');
  if (inModules >= 0) return path.slice(inModules + '/node_modules/'.length);
  return path.startsWith(process.cwd()) ? path.slice(process.cwd().length + 1) : path;
}

function label(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const name = functionName || '(anonymous)';
  if (!url) return name;
  // Scripts compiled by tsx report their functions on line 1: no line then.
  return `${name}  ${shortUrl(url)}${lineNumber > 0 ? `:${lineNumber + 1}` : ''}`;
}

/** Microseconds of self time per function (samples of the same function summed). */
function selfTimes(profile: CpuProfile): Map<string, number> {
  const byId = new Map(profile.nodes.map((n) => [n.id, label(n)]));
  const times = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const key = byId.get(id) ?? '?';
    times.set(key, (times.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  return times;
}

/** The top `count` functions by self time, with their share of all and of busy time. */
export function topSelfTime(path: string, count = 25): string {
  const times = selfTimes(JSON.parse(readFileSync(path, 'utf8')) as CpuProfile);
  const total = [...times.values()].reduce((a, b) => a + b, 0);
  const busy = total - (times.get(IDLE) ?? 0);
  const top = [...times].sort((a, b) => b[1] - a[1]).slice(0, count);
  const pct = (us: number, of: number) => `${((us / of) * 100).toFixed(1)}%`;
  const rows = top.map(([name, us]) => [
    name,
    `${(us / 1000).toFixed(0)} ms`,
    pct(us, total),
    name === IDLE ? '' : pct(us, busy),
  ]);
  const head = `${path}: ${(total / 1e6).toFixed(1)} s profiled, busy ${pct(busy, total)}`;
  return `${head}\n${table([['self time', 'ms', '% all', '% busy'], ...rows])}`;
}

/** A sampling heap profile's node (the inspector's format): bytes allocated in the frame. */
interface AllocationNode {
  callFrame: ProfileNode['callFrame'];
  selfSize: number;
  children: AllocationNode[];
}

/** The top `count` functions by bytes allocated (sampled), with their share of all. */
export function topAllocations(path: string, count = 25): string {
  const { head } = JSON.parse(readFileSync(path, 'utf8')) as { head: AllocationNode };
  const bytes = new Map<string, number>();
  const visit = (node: AllocationNode) => {
    const key = label({ id: 0, callFrame: node.callFrame });
    bytes.set(key, (bytes.get(key) ?? 0) + node.selfSize);
    node.children.forEach(visit);
  };
  visit(head);
  const total = [...bytes.values()].reduce((a, b) => a + b, 0);
  const top = [...bytes].sort((a, b) => b[1] - a[1]).slice(0, count);
  const rows = top.map(([name, n]) => [
    name,
    `${(n / 2 ** 20).toFixed(0)} MiB`,
    `${((n / total) * 100).toFixed(1)}%`,
  ]);
  const headLine = `${path}: ${(total / 2 ** 30).toFixed(2)} GiB allocated (sampled)`;
  return `${headLine}\n${table([['allocated in', 'MiB', '%'], ...rows])}`;
}

/** The top of a CPU profile (.cpuprofile) or an allocation profile (.heapprofile). */
export function topOfProfile(path: string, count = 25): string {
  return path.endsWith('.heapprofile') ? topAllocations(path, count) : topSelfTime(path, count);
}
