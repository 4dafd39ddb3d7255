/**
 * What idle sessions cost: `tsx bench/idle-diagnose.ts [sessions] [seconds]` sets up the
 * fan-out's sessions (each following `changes`; BENCH_FANOUT_THREE=1 for all three
 * subscriptions), then profiles the gateway for `seconds` while nothing is uploaded, and
 * prints how busy it was and its functions with the most self time. An idle gateway should
 * be nearly idle, whatever its sessions.
 */
import { connectAll, receivers, startFleet } from './fleet.js';
import { topOfProfile } from './profile-top.js';

const size = Number(process.argv[2] ?? 5000);
const seconds = Number(process.argv[3] ?? 10);
const kind = process.env.BENCH_FANOUT_THREE === '1' ? 'three' : 'changes';
const fleet = await startFleet('gateway', size);
try {
  const users = await receivers('idle-user', 0, size);
  const setupS = await connectAll(fleet, kind, users, 1);
  console.log(`${size} sessions (${kind}) set up in ${setupS.toFixed(1)} s; idle for ${seconds} s`);
  const path = `.bench/idle-${size}.cpuprofile`;
  await fleet.server.call({ type: 'profile-start' }, 'profiling');
  await new Promise((r) => setTimeout(r, seconds * 1000));
  await fleet.server.call({ type: 'profile-stop', path }, 'profiled');
  console.log(`\n${topOfProfile(path, 20)}\n`);
} finally {
  await fleet.stop();
}
