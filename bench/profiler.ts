/**
 * A profile of this process through the inspector: CPU time, written as a .cpuprofile; or,
 * with BENCH_PROFILE=alloc, the bytes allocated (sampled, including objects the garbage
 * collector has since freed), written as a .heapprofile (profile-top.ts reads both).
 */
import { Session } from 'node:inspector/promises';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

let session: Session | null = null;

/** Whether the profile is of allocations rather than of CPU time. */
const allocationProfile = process.env.BENCH_PROFILE === 'alloc';

/** The extension of the profile BENCH_PROFILE asks for (1: CPU, alloc: allocations), or null. */
export const PROFILE_EXT = allocationProfile
  ? '.heapprofile'
  : process.env.BENCH_PROFILE === '1'
    ? '.cpuprofile'
    : null;

export async function startProfile(): Promise<void> {
  session = new Session();
  session.connect();
  if (allocationProfile) {
    await session.post('HeapProfiler.enable');
    await session.post('HeapProfiler.startSampling', {
      samplingInterval: 4096,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
    return;
  }
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 500 });
  await session.post('Profiler.start');
}

export async function stopProfile(path: string): Promise<void> {
  if (!session) throw new Error('no profile running');
  const { profile } = allocationProfile
    ? await session.post('HeapProfiler.stopSampling')
    : await session.post('Profiler.stop');
  session.disconnect();
  session = null;
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(profile));
}
