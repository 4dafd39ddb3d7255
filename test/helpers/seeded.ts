/**
 * Seeded randomness for tests that explore many runs (chaos, property-style loops): a small
 * PRNG, a few draws on it, the list of seeds to run from the environment, and a wrapper that
 * names the failing seed and how to rerun it.
 *
 *   SEEDS=200 npx vitest run test/x.test.ts        runs seeds 1..200
 *   SEED_START=500 SEEDS=50 npx vitest run ...     runs seeds 500..549
 *   SEED=1234 npx vitest run test/x.test.ts        runs seed 1234 only
 */
import { relative } from 'node:path';
import { expect } from 'vitest';

/** mulberry32: a fast 32-bit PRNG; the same seed always gives the same numbers in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An integer in [min, max], both included. */
export function int(random: () => number, min: number, max: number): number {
  const lo = Math.ceil(min);
  const hi = Math.floor(max);
  if (hi < lo) throw new RangeError(`int: empty range [${min}, ${max}]`);
  return lo + Math.floor(random() * (hi - lo + 1));
}

/** One element of a non-empty array. */
export function pick<T>(random: () => number, array: readonly T[]): T {
  if (array.length === 0) throw new RangeError('pick: empty array');
  return array[int(random, 0, array.length - 1)] as T;
}

/**
 * The seeds to run: `SEED` alone if set, else `SEEDS` (or `defaultCount`) seeds starting at
 * `SEED_START` (or 1).
 */
export function seedsFromEnv(
  defaultCount: number,
  envVar = 'SEEDS',
  firstVar = 'SEED_START',
  env: Record<string, string | undefined> = process.env,
): number[] {
  const single = readInt(env, 'SEED');
  if (single !== undefined) return [single];
  const count = readInt(env, envVar) ?? defaultCount;
  const first = readInt(env, firstVar) ?? 1;
  return Array.from({ length: Math.max(0, count) }, (_, i) => first + i);
}

function readInt(env: Record<string, string | undefined>, name: string): number | undefined {
  const text = env[name]?.trim();
  if (!text) return undefined;
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new Error(`${name} must be an integer, not "${text}"`);
  return value;
}

/**
 * Runs `fn(seed)`; a failure is rethrown with the seed and the command that reruns it in
 * front of its message, the original kept as `cause`.
 */
export async function withSeed<T>(seed: number, fn: (seed: number) => T | Promise<T>): Promise<T> {
  try {
    return await fn(seed);
  } catch (error) {
    throw seedError(seed, error);
  }
}

function seedError(seed: number, error: unknown): Error {
  const message = error instanceof Error ? error.message : String(error);
  const wrapped = new Error(
    `seed ${seed} failed (rerun: SEED=${seed} npx vitest run ${testFile()}): ${message}`,
    { cause: error },
  );
  // Keeps vitest's expected/actual diff, which it reads from these fields of the thrown error.
  if (error instanceof Error) {
    const fields = error as Error & Record<string, unknown>;
    for (const key of ['actual', 'expected', 'showDiff', 'operator']) {
      if (key in fields) Object.assign(wrapped, { [key]: fields[key] });
    }
  }
  return wrapped;
}

function testFile(): string {
  const path = expect.getState().testPath;
  return path ? relative(process.cwd(), path) : '<file>';
}
