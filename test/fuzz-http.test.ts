/**
 * Fuzzing the gateway over HTTP with fast-check (issue item 10): generated and mutated
 * uploads, query filters and GraphQL documents against a real gateway in a child process on
 * a real SQLite file. See test/helpers/fuzz-harness.ts for what each run checks and the
 * settings (FUZZ_SEED, FUZZ_RUNS, FUZZ_PATH, FUZZ_STRICT); `npx tsx scripts/fuzz.ts` runs
 * the same properties longer.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { FuzzGateway, runProperty } from './helpers/fuzz-harness.js';
import {
  documentsProperty,
  filtersProperty,
  setupFixture,
  uploadProperty,
  type Fixture,
} from './helpers/fuzz-properties.js';

const FILE = 'test/fuzz-http.test.ts';
/**
 * Each property stops starting runs (and shrinking) after this, so a busy machine runs fewer
 * rather than longer; the test's timeout leaves room for a hung request and a restart.
 */
const TIME_LIMIT_MS = 20_000;
const TEST_TIMEOUT_MS = 90_000;

let f: Fixture;

beforeAll(async () => {
  f = await setupFixture(await FuzzGateway.start());
}, 60_000);
afterAll(() => f?.gw.close());

const rerun = (name: string) => `npx vitest run ${FILE} -t "${name}"`;

describe('fuzzing over HTTP', () => {
  it(
    'uploadChanges with generated and mutated changesets',
    async () => {
      await runProperty('uploads', uploadProperty(f), {
        defaultRuns: 250,
        rerun: rerun('uploadChanges'),
        timeLimitMs: TIME_LIMIT_MS,
      });
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'openSession and updateQueries with generated filters',
    async () => {
      await runProperty('filters', filtersProperty(f), {
        defaultRuns: 200,
        rerun: rerun('generated filters'),
        timeLimitMs: TIME_LIMIT_MS,
      });
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'mutated GraphQL documents, variables and requests',
    async () => {
      await runProperty('documents', documentsProperty(f), {
        defaultRuns: 250,
        rerun: rerun('mutated GraphQL documents'),
        timeLimitMs: TIME_LIMIT_MS,
      });
    },
    TEST_TIMEOUT_MS,
  );
});
