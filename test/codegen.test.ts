import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const COMMITTED = 'client/src/gql';

describe('client/src/gql', () => {
  it('is exactly what `npm run codegen` generates from schema.graphql and the SDK operations', async () => {
    const out = mkdtempSync(join(tmpdir(), 'codegen-'));
    try {
      await run('npx', ['graphql-codegen', '--config', 'codegen.ts'], {
        env: { ...process.env, CODEGEN_OUT: `${out}/` },
      });
      const files = readdirSync(out).sort();
      expect(files).toEqual(readdirSync(COMMITTED).sort());
      for (const file of files) {
        const committed = readFileSync(join(COMMITTED, file), 'utf8');
        expect(committed, `${COMMITTED}/${file} is stale: run npm run codegen`).toBe(
          readFileSync(join(out, file), 'utf8'),
        );
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 60_000);
});
