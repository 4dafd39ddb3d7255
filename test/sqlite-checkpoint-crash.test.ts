/**
 * Crashes through the checkpoints (src/store/sqlite/checkpointer.ts): a child process
 * writes through the SQLite store with checkpoints as frequent as they get, on the writer
 * thread and the checkpointer thread (test/helpers/checkpoint-crash-child.ts), and is
 * SIGKILLed at a seeded moment. The file must then pass SQLite's integrity check and hold
 * every acknowledged changeset, each document whole and each change once; a restarted
 * writer goes on from there. `SEEDS`, `SEED_START` or `SEED` choose the runs.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { REPO } from './helpers/child-gateway.js';
import { CRASH_CHANGESET_SIZE, crashPuts } from './helpers/checkpoint-crash-child.js';
import { int, seededRandom, seedsFromEnv, withSeed } from './helpers/seeded.js';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'checkpoint-crash-'));
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Runs the writer on `file` until `killAfter` more changesets are acknowledged (then
 * SIGKILL); the last version acknowledged.
 */
async function writeUntilKilled(file: string, killAfter: number): Promise<number> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/helpers/checkpoint-crash-child.ts', file],
    {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = once(child, 'exit');
  let acked = 0;
  let seen = 0;
  for await (const line of createInterface({ input: child.stdout })) {
    acked = Number(/^ack (\d+)$/.exec(line)?.[1] ?? acked);
    if (++seen === killAfter) child.kill('SIGKILL');
  }
  await exited;
  expect(child.signalCode, `the writer died on its own:\n${stderr}`).toBe('SIGKILL');
  expect(stderr).toBe('');
  return acked;
}

/** The file's integrity, and every changeset up to `acked` in it whole, each change once. */
function check(file: string, acked: number): number {
  const db = new Database(file, { readonly: true });
  try {
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    const integrated = db
      .prepare("SELECT last_integrated FROM sessions WHERE client_id = 'c1'")
      .pluck()
      .get() as number;
    expect(integrated).toBeGreaterThanOrEqual(acked);
    const history = db.prepare('SELECT count(*) FROM history').pluck().get() as number;
    expect(history).toBe(integrated * CRASH_CHANGESET_SIZE);
    const doc = db
      .prepare("SELECT doc FROM documents WHERE collection = 'items' AND id = ?")
      .pluck();
    for (let v = 1; v <= integrated; v++) {
      for (const put of crashPuts(v, CRASH_CHANGESET_SIZE)) {
        expect(JSON.parse(doc.get(put.key.id) as string)).toEqual(put.doc);
      }
    }
    return integrated;
  } finally {
    db.close();
  }
}

describe('a SIGKILL through the checkpoints', () => {
  for (const seed of seedsFromEnv(2)) {
    it(`loses no acknowledged changeset and leaves a sound file (seed ${seed})`, async () => {
      await withSeed(seed, async () => {
        const random = seededRandom(seed);
        const file = join(dir, 'sync.db');
        const first = await writeUntilKilled(file, int(random, 20, 200));
        const integrated = check(file, first);
        // A writer started again goes on from there, through more checkpoints.
        const second = await writeUntilKilled(file, int(random, 20, 200));
        expect(second).toBeGreaterThan(integrated);
        check(file, second);
      });
    }, 60_000);
  }
});
