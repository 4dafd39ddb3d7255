/**
 * The fan-out scenario's gateway side alone, repeated, for diagnosis (no floor, no table):
 * `tsx bench/fanout-diagnose.ts [sessions] [repetitions]`, with the settings of
 * `npm run bench` (BENCH_FANOUT_SESSIONS_PER_SOCKET, BENCH_FANOUT_ACK) and, usually,
 * BENCH_FANOUT_PROGRESS=5 for the processes' progress lines. BENCH_PROFILE=1 (or alloc) profiles the
 * gateway in each repetition (.bench/fanout-diagnose-<sessions>-<rep>.cpuprofile), over the
 * measured changes, or with BENCH_PROFILE_PHASE=setup (or reconnect) over that phase.
 */
import { fanoutRun } from './fanout.js';
import { topOfProfile } from './profile-top.js';
import { PROFILE_EXT } from './profiler.js';
import { FANOUT } from './scale.js';
import { fmt } from './stats.js';

const size = Number(process.argv[2] ?? 20_000);
const reps = Number(process.argv[3] ?? 1);
const profile = PROFILE_EXT !== null;

for (let rep = 0; rep < reps; rep++) {
  const path = profile ? `.bench/fanout-diagnose-${size}-${rep + 1}${PROFILE_EXT}` : null;
  const r = await fanoutRun('gateway', size, FANOUT, path);
  console.log(
    `rep ${rep + 1}, ${fmt.int(size)} sessions (${FANOUT.sessionsPerSocket} per socket` +
      `${FANOUT.ack ? ', acknowledging' : ''}): p50 ${fmt.ms(r.p50)} p99 ${fmt.ms(r.p99)},` +
      ` setup ${r.setupS.toFixed(1)} s, received ${fmt.int(r.received)} of ${fmt.int(r.expected)}` +
      (FANOUT.ack ? `, ${(r.acks / size).toFixed(1)} acks/session` : ''),
  );
  if (path) console.log(`\n${topOfProfile(path, 25)}\n`);
}
