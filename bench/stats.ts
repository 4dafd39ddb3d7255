/** Medians, percentiles and a plain-text table. */

const sorted = (xs: readonly number[]) => [...xs].sort((a, b) => a - b);

/** Nearest-rank percentile, p in (0, 100]. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = sorted(xs);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = sorted(xs);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Median of each numeric field over the repetitions. */
export function medianOf<T extends { [K in keyof T]: number }>(reps: readonly T[]): T {
  const first = reps[0];
  if (!first) throw new Error('no repetitions');
  const keys = Object.keys(first) as (keyof T)[];
  return Object.fromEntries(keys.map((k) => [k, median(reps.map((r) => r[k]))])) as T;
}

/** Lowest and highest of a field over the repetitions, as "lo–hi". */
export function spread(xs: readonly number[], format: (x: number) => string): string {
  const s = sorted(xs);
  return `${format(s[0] ?? NaN)}–${format(s[s.length - 1] ?? NaN)}`;
}

export const fmt = {
  int: (x: number) => Math.round(x).toLocaleString('en-US'),
  ms: (x: number) => `${x.toFixed(2)} ms`,
  ratio: (x: number) => (x >= 10 ? x.toFixed(1) : x.toPrecision(3)),
  pct: (x: number) => `${Math.round(x * 100)}%`,
  one: (x: number) => x.toFixed(1),
};

/** Left-aligns the first column, right-aligns the rest. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]) =>
    r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('   ');
  return rows.map(line).join('\n');
}

/** Nearest-rank percentile of samples already sorted ascending, p in (0, 100]. */
export function percentileSorted(s: Float64Array, p: number): number {
  if (s.length === 0) return NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}
