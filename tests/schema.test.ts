import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { printedSchema, SCHEMA_FILE } from '../scripts/print-schema.js';

describe('schema.graphql', () => {
  it('matches the schema built in code (run `npm run schema` after changing it)', () => {
    expect(readFileSync(SCHEMA_FILE, 'utf8')).toBe(printedSchema());
  });

  it('keeps the public names of the contract', () => {
    const sdl = printedSchema();
    for (const name of [
      'openSession(input: OpenSessionInput!): SyncSession!',
      'changes(sessionId: ID!, since: Int): DownloadBatch!',
      'uploadChanges(sessionId: ID!, changesets: [ChangesetInput!]!',
      'acknowledgeDownload(sessionId: ID!, serverVersion: Int!): SyncSession!',
    ]) {
      expect(sdl).toContain(name);
    }
  });
});
