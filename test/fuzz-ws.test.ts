/**
 * Fuzzing the gateway's graphql-ws endpoint with fast-check (issue item 10): raw frames over
 * a real WebSocket, and generated query filters meeting documents in a download stream,
 * against a real gateway in a child process on a real SQLite file. See
 * test/helpers/fuzz-harness.ts for what each run checks and the settings.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { FuzzGateway, runProperty } from './helpers/fuzz-harness.js';
import {
  filterStreamProperty,
  framesProperty,
  setupFixture,
  type Fixture,
} from './helpers/fuzz-properties.js';

const FILE = 'test/fuzz-ws.test.ts';
/** As in fuzz-http.test.ts: fewer runs, not longer, on a busy machine. */
const TIME_LIMIT_MS = 20_000;
const TEST_TIMEOUT_MS = 90_000;

let f: Fixture;

beforeAll(async () => {
  f = await setupFixture(await FuzzGateway.start());
}, 60_000);
afterAll(() => f?.gw.close());

const rerun = (name: string) => `npx vitest run ${FILE} -t "${name}"`;

describe('fuzzing over graphql-ws', () => {
  it(
    'raw graphql-ws frames',
    async () => {
      await runProperty('frames', framesProperty(f), {
        defaultRuns: 200,
        rerun: rerun('raw graphql-ws frames'),
        timeLimitMs: TIME_LIMIT_MS,
      });
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'generated filters meet documents in a download stream',
    async () => {
      await runProperty('filter streams', filterStreamProperty(f), {
        defaultRuns: 120,
        rerun: rerun('download stream'),
        timeLimitMs: TIME_LIMIT_MS,
      });
    },
    TEST_TIMEOUT_MS,
  );
});
