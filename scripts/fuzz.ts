/**
 * The fuzz properties of test/fuzz-http.test.ts and test/fuzz-ws.test.ts, run longer and
 * outside vitest, against one real gateway (a child process on a SQLite file) per group:
 *
 *   npx tsx scripts/fuzz.ts                     every property, FUZZ_RUNS (default 5000) runs each
 *   npx tsx scripts/fuzz.ts uploads frames      only those (uploads, filters, documents, frames, streams)
 *   FUZZ_SEED=123 FUZZ_PATH=4:1 npx tsx scripts/fuzz.ts uploads   replays a counterexample
 *   FUZZ_STRICT=1 npx tsx scripts/fuzz.ts       the known bugs (fuzz-harness.ts) fail again
 *
 * Every property runs even when one fails; the exit code is 1 when any failed.
 */
process.env.FUZZ_RUNS ??= '5000';

const { FuzzGateway, runProperty, settings } = await import('../test/helpers/fuzz-harness.js');
const properties = await import('../test/helpers/fuzz-properties.js');

type Property = (f: Awaited<ReturnType<typeof properties.setupFixture>>) => unknown;

/** Properties by name, in groups that share a gateway. */
const GROUPS: Record<string, Record<string, Property>> = {
  http: {
    uploads: properties.uploadProperty,
    filters: properties.filtersProperty,
    documents: properties.documentsProperty,
  },
  ws: {
    frames: properties.framesProperty,
    streams: properties.filterStreamProperty,
  },
};

const all = Object.values(GROUPS).flatMap((g) => Object.keys(g));
const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !all.includes(name));
if (unknown.length > 0) {
  console.error(`unknown properties: ${unknown.join(', ')} (known: ${all.join(', ')})`);
  process.exit(2);
}

const failures: string[] = [];
const summary: string[] = [];
for (const [group, members] of Object.entries(GROUPS)) {
  const names = Object.keys(members).filter((n) => wanted.length === 0 || wanted.includes(n));
  if (names.length === 0) continue;
  const gw = await FuzzGateway.start();
  try {
    const fixture = await properties.setupFixture(gw);
    for (const name of names) {
      const property = members[name]!(fixture) as Parameters<typeof runProperty>[1];
      try {
        const r = await runProperty(name, property, {
          defaultRuns: Number(settings.runs),
          rerun: `npx tsx scripts/fuzz.ts ${name}`,
        });
        summary.push(`${name}: ${r.runs} runs, ${(r.ms / 1000).toFixed(1)} s`);
      } catch (error) {
        console.error((error as Error).message);
        failures.push(name);
        summary.push(`${name}: FAILED`);
      }
    }
    summary.push(`(${group} gateway restarts: ${gw.restarts})`);
  } finally {
    await gw.close();
  }
}
console.log(`\nfuzz summary (seed ${settings.seed}):\n  ${summary.join('\n  ')}`);
if (failures.length > 0) {
  console.error(`failed: ${failures.join(', ')}`);
  process.exit(1);
}
