/**
 * Convergence under faults, seeded (part 1 of 2, so the seeds run on both workers):
 * see test/helpers/convergence.ts. `SEEDS=200 npm run test:convergence` runs more;
 * a failing seed prints the command that reruns it alone.
 */
import { describe, it } from 'vitest';
import { convergenceRun } from './helpers/convergence.js';
import { seedsFromEnv, withSeed } from './helpers/seeded.js';

const seeds = seedsFromEnv(20).filter((_, i) => i % 2 === 1 - 1);

describe('every client equals the server after faults', () => {
  if (seeds.length === 0) it.skip('no seed falls to this part', () => undefined);
  it.each(seeds)('seed %i', (seed) => withSeed(seed, convergenceRun), 120_000);
});
