import { readFileSync } from 'node:fs';
import type { GraphQLField, GraphQLObjectType } from 'graphql';
import { describe, expect, it } from 'vitest';
import { printedSchema, SCHEMA_FILE } from '../scripts/print-schema.js';
import { schema } from '../src/server/schema.js';

/** Root fields of the public contract (DESIGN section 7) built so far: args and result. */
const CONTRACT: Record<string, Record<string, string>> = {
  Query: {
    node: '(id: ID!): Node',
    session: '(id: ID!): SyncSession',
  },
  Mutation: {
    openSession: '(input: OpenSessionInput!): SyncSession!',
    closeSession: '(id: ID!): Boolean!',
    pauseSession: '(id: ID!, direction: ProgressDirection, until: DateTime): SyncSession!',
    resumeSession: '(id: ID!): SyncSession!',
    waitForUpload: '(sessionId: ID!, cancellationToken: ID, timeoutMs: Int): SyncSession!',
    waitForDownload: '(sessionId: ID!, cancellationToken: ID, timeoutMs: Int): SyncSession!',
    createCancellationToken: '(): CancellationToken!',
    cancel: '(cancellationToken: ID!): CancellationToken!',
    reconnect: '(sessionId: ID): ReconnectResult!', // sessionId added (optional): one session
    acknowledgeDownload: '(sessionId: ID!, serverVersion: Int!, queriesVersion: Int): SyncSession!',
    updateQueries: '(sessionId: ID!, queries: [SyncQueryInput!]!): SyncSession!',
  },
  Subscription: {
    connectionStateChanges: '(sessionId: ID!): ConnectionStateChange!',
    progress: '(sessionId: ID!, direction: ProgressDirection!, mode: ProgressMode!): SyncProgress!',
    changes: '(sessionId: ID!, since: Int, bootstrapUntil: Int): DownloadBatch!',
    sessionEvents: '(sessionId: ID!): SessionEvent!',
  },
};

const signature = (f: GraphQLField<unknown, unknown>) =>
  `(${f.args.map((a) => `${a.name}: ${String(a.type)}`).join(', ')}): ${String(f.type)}`;

describe('schema.graphql', () => {
  it('matches the schema built in code (run `npm run schema` after changing it)', () => {
    expect(readFileSync(SCHEMA_FILE, 'utf8')).toBe(printedSchema());
  });

  it.each(Object.entries(CONTRACT))('keeps the contract of %s', (typeName, fields) => {
    const type = schema.getType(typeName) as GraphQLObjectType;
    for (const [name, expected] of Object.entries(fields)) {
      expect(`${name}${signature(type.getFields()[name]!)}`).toBe(`${name}${expected}`);
    }
  });

  it('sessions pages SyncSessionConnection, filtered by state and connection state', () => {
    const sessions = schema.getQueryType()!.getFields().sessions!;
    expect(String(sessions.type)).toBe('SyncSessionConnection!');
    expect(sessions.args.map((a) => a.name)).toEqual(
      expect.arrayContaining(['first', 'after', 'state', 'connectionState']),
    );
  });

  it('uploadChanges starts with the contract arguments', () => {
    const upload = schema.getMutationType()!.getFields().uploadChanges!;
    expect(signature(upload)).toMatch(
      /^\(sessionId: ID!, changesets: \[ChangesetInput!\]!, latestClientVersion: Int.*\): UploadAck!$/,
    );
  });
});
