/**
 * Inclusive time in a .cpuprofile: for each named frame, the time of the samples whose
 * stack holds it (once per sample, however deep the recursion). Used by the throughput
 * scenario (BENCH_PROFILE=1) to break the upload path down per changeset.
 */
import { readFileSync } from 'node:fs';
import { table } from './stats.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** A frame to find: a function name, optionally only in files whose path holds `file`. */
export interface FramePattern {
  label: string;
  name: string | RegExp;
  file?: string;
}

const matches = (p: FramePattern, node: ProfileNode) => {
  const { functionName, url } = node.callFrame;
  const nameOk = typeof p.name === 'string' ? functionName === p.name : p.name.test(functionName);
  return nameOk && (p.file === undefined || url.includes(p.file));
};

/** Microseconds of inclusive time per pattern, and the profile's busy time. */
export function inclusiveTimes(path: string, patterns: readonly FramePattern[]) {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  // The set of patterns on each node's stack, computed once per node.
  const onStack = new Map<number, Set<number>>();
  const stackOf = (id: number): Set<number> => {
    const known = onStack.get(id);
    if (known) return known;
    const up = parent.get(id);
    const set = new Set(up === undefined ? [] : stackOf(up));
    const node = byId.get(id)!;
    patterns.forEach((p, i) => matches(p, node) && set.add(i));
    onStack.set(id, set);
    return set;
  };
  const times = patterns.map(() => 0);
  let busy = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    const name = byId.get(id)?.callFrame.functionName;
    if (name === '(idle)' || name === '(program)' || name === '(garbage collector)') {
      if (name !== '(idle)') busy += dt;
      return;
    }
    busy += dt;
    for (const p of stackOf(id)) times[p] = (times[p] ?? 0) + dt;
  });
  return { times, busy };
}

/** A table of the patterns' inclusive time: ms, share of busy time, µs per `per` unit. */
export function inclusiveTable(
  path: string,
  patterns: readonly FramePattern[],
  per: number,
  unit: string,
): string {
  const { times, busy } = inclusiveTimes(path, patterns);
  const rows = patterns.map((p, i) => [
    p.label,
    `${(times[i]! / 1000).toFixed(0)} ms`,
    `${((times[i]! / busy) * 100).toFixed(1)}%`,
    `${(times[i]! / per).toFixed(1)} µs`,
  ]);
  return table([['inclusive', 'ms', '% busy', `per ${unit}`], ...rows]);
}
