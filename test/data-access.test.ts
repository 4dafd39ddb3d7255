/**
 * No read past the read rule, and no write into another user's document, on every path that
 * returns or writes documents: uploads' answers (compensating writes), the download stream,
 * the `document` query, errors; admins manage sessions but read and write only as
 * themselves; an UPDATE or DELETE of a document never created is refused.
 * Alice's documents carry a secret that no answer to anyone else may hold.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startTestGateway, wsRequest, type TestGateway } from './helpers/gateway.js';
import { hlc } from './helpers/sync-client.js';
import { stream } from './helpers/stream.js';

const SECRET = 'alice-secret-4711';
const OPEN = `mutation ($input: OpenSessionInput!) { openSession(input: $input) { id } }`;
const UPLOAD = `mutation ($s: ID!, $cs: [ChangesetInput!]!) { uploadChanges(sessionId: $s, changesets: $cs) {
  lastIntegratedClientVersion serverVersion compensatingWrites { collection id reason document } } }`;
const CHANGES = `subscription ($s: ID!, $since: Int) { changes(sessionId: $s, since: $since) {
  toServerVersion changes { collection id op document } } }`;
const ACK = `mutation ($s: ID!, $v: Int!) { acknowledgeDownload(sessionId: $s, serverVersion: $v) { id } }`;
const DOCUMENT = `query ($c: String!, $id: ID!) { document(collection: $c, id: $id) }`;

interface Compensating {
  collection: string;
  id: string;
  reason: string;
  document: Record<string, unknown> | null;
}
type UploadResult = {
  uploadChanges: { lastIntegratedClientVersion: number; compensatingWrites: Compensating[] };
};

let gw: TestGateway;
const tokens: Record<string, string> = {};
const versions = new Map<string, number>();

/** Opens a session for `clientId` of `user` and returns its id. */
async function open(user: string, clientId: string, queries: unknown[] = []): Promise<string> {
  const r = await gw.http<{ openSession: { id: string } }>(
    OPEN,
    { input: { clientId, queries } },
    tokens[user],
  );
  expect(r.errors).toBeUndefined();
  return r.data!.openSession.id;
}

/** Uploads one changeset of `changes` as the session's next client version. */
async function upload(user: string, session: string, changes: unknown[], timestamp = hlc()) {
  const clientVersion = (versions.get(session) ?? 0) + 1;
  const cs = [{ clientVersion, timestamp, changes }];
  const r = await gw.http<UploadResult>(UPLOAD, { s: session, cs }, tokens[user]);
  if (!r.errors) versions.set(session, clientVersion);
  return r;
}

const note = (id: string, doc: Record<string, unknown>) => ({
  collection: 'notes',
  id,
  op: 'INSERT',
  document: doc,
});
const update = (collection: string, id: string, set: Record<string, unknown>) => ({
  collection,
  id,
  op: 'UPDATE',
  set,
});
const remove = (collection: string, id: string) => ({ collection, id, op: 'DELETE' });

let aliceSession: string;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sync-gw-rules-'));
  const rules = join(dir, 'rules.json');
  writeFileSync(
    rules,
    JSON.stringify({
      collections: {
        board: { read: true, write: { ownerId: '%%user.id' } },
      },
    }),
  );
  gw = await startTestGateway({ env: { RULES_FILE: rules } });
  for (const user of ['alice', 'bob']) tokens[user] = await gw.token(user);
  tokens.root = await gw.token('root', ['admin']);
  aliceSession = await open('alice', 'alice-1', [{ collection: 'notes' }]);
  const r = await upload('alice', aliceSession, [
    note('n1', { ownerId: 'alice', text: SECRET }),
    note('gone', { ownerId: 'alice', text: SECRET }),
    { collection: 'board', id: 'b1', op: 'INSERT', document: { ownerId: 'alice', text: 'hi' } },
  ]);
  expect(r.data!.uploadChanges.compensatingWrites).toEqual([]);
  expect((await upload('alice', aliceSession, [remove('notes', 'gone')])).errors).toBeUndefined();
});
afterAll(() => gw.close());

describe('compensating writes carry only what the caller may read', () => {
  it("gives nothing of another user's document back to UPDATE, INSERT or DELETE", async () => {
    const bob = await open('bob', 'bob-1');
    for (const change of [
      update('notes', 'n1', { text: 'mine now' }),
      note('n1', { ownerId: 'bob' }),
      remove('notes', 'n1'),
    ]) {
      const r = await upload('bob', bob, [change]);
      expect(JSON.stringify(r)).not.toContain(SECRET);
      expect(r.data!.uploadChanges.compensatingWrites).toEqual([
        {
          collection: 'notes',
          id: 'n1',
          reason: expect.stringContaining('PERMISSION_DENIED'),
          document: null,
        },
      ]);
    }
    const [n1] = await gw.gateway.core.store.getDocuments([{ collection: 'notes', id: 'n1' }]);
    expect(n1?.doc).toEqual({ _id: 'n1', ownerId: 'alice', text: SECRET });
  });

  it('gives the server copy back to a caller who may read it but not write it', async () => {
    const bob = await open('bob', 'bob-2');
    const r = await upload('bob', bob, [update('board', 'b1', { text: 'defaced' })]);
    expect(r.data!.uploadChanges.compensatingWrites).toEqual([
      {
        collection: 'board',
        id: 'b1',
        reason: expect.stringContaining('write rule of "board"'),
        document: { _id: 'b1', ownerId: 'alice', text: 'hi' },
      },
    ]);
  });
});

describe('the other read paths', () => {
  it("streams nothing of another user's documents, and the document query answers null", async () => {
    const bob = await open('bob', 'bob-3', [{ collection: 'notes' }, { collection: 'board' }]);
    const batches = stream<{ changes: { toServerVersion: number; changes: unknown[] } }>(
      gw.ws(tokens.bob!),
      CHANGES,
      { s: bob, since: 0 },
    );
    const latest = await gw.gateway.core.store.latestVersion();
    const seen: unknown[] = [];
    for (;;) {
      const batch = (await batches.next()).data!.changes;
      seen.push(...batch.changes);
      if (batch.toServerVersion >= latest) break;
    }
    batches.stop();
    expect(JSON.stringify(seen)).not.toContain(SECRET);
    expect(seen).toEqual([
      {
        collection: 'board',
        id: 'b1',
        op: 'UPSERT',
        document: { _id: 'b1', ownerId: 'alice', text: 'hi' },
      },
    ]);
    const doc = await gw.http(DOCUMENT, { c: 'notes', id: 'n1' }, tokens.bob);
    expect(doc).toEqual({ data: { document: null } });
  });

  it('names no document content in the errors of a refused upload', async () => {
    const bob = await open('bob', 'bob-4');
    const r = await gw.http(
      UPLOAD,
      { s: bob, cs: [{ clientVersion: 1, timestamp: 'soon', changes: [remove('notes', 'n1')] }] },
      tokens.bob,
    );
    expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(JSON.stringify(r)).not.toContain(SECRET);
  });
});

describe('admins manage every session but read and write only as themselves', () => {
  it('pauses, resumes, waits on and reads the state of another user’s session', async () => {
    const id = await open('alice', 'alice-admin-managed');
    const pause = await gw.http(
      `mutation ($id: ID!) { pauseSession(id: $id) { id state } }`,
      { id },
      tokens.root,
    );
    expect(pause.errors).toBeUndefined();
    const resume = await gw.http(
      `mutation ($id: ID!) { resumeSession(id: $id) { id state } }`,
      { id },
      tokens.root,
    );
    expect(resume.errors).toBeUndefined();
    const wait = await gw.http(
      `mutation ($id: ID!) { waitForUpload(sessionId: $id) { id } }`,
      { id },
      tokens.root,
    );
    expect(wait.errors).toBeUndefined();
    const closed = await gw.http(
      `mutation ($id: ID!) { closeSession(id: $id) }`,
      { id },
      tokens.root,
    );
    expect(closed).toEqual({ data: { closeSession: true } });
  });

  it("refuses to upload, stream, acknowledge or re-scope through another user's session", async () => {
    const refusals = [
      await upload('root', aliceSession, [note('planted', { ownerId: 'alice' })]),
      await gw.http(ACK, { s: aliceSession, v: 1 }, tokens.root),
      await gw.http(
        `mutation ($s: ID!) { updateQueries(sessionId: $s, queries: [{ collection: "board" }]) { id } }`,
        { s: aliceSession },
        tokens.root,
      ),
      await wsRequest(gw.ws(tokens.root!), CHANGES, { s: aliceSession, since: 0 }).catch(
        (errors: unknown) => ({ errors }),
      ),
    ];
    for (const r of refusals) {
      expect(JSON.stringify(r)).not.toContain(SECRET);
      expect(r.errors).toMatchObject([
        {
          extensions: { code: 'FORBIDDEN', field: 'sessionId' },
          message: expect.stringContaining('admin'),
        },
      ]);
    }
    const [planted] = await gw.gateway.core.store.getDocuments([
      { collection: 'notes', id: 'planted' },
    ]);
    expect(planted).toBeUndefined();
  });

  it("does not make another user's client CONNECTING by declaring its session", async () => {
    const id = await open('alice', 'alice-declared');
    const socket = createClient({
      url: gw.gateway.wsUrl,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      connectionParams: { authToken: tokens.root, sessionIds: [id] },
    });
    try {
      expect(await wsRequest(socket, '{ __typename }')).toEqual({ data: { __typename: 'Query' } });
      const state = await gw.http<{ session: { connectionState: string } }>(
        `query ($id: ID!) { session(id: $id) { connectionState } }`,
        { id },
        tokens.root,
      );
      expect(state.data!.session.connectionState).toBe('DISCONNECTED');
    } finally {
      await socket.dispose();
    }
  });

  it('reads documents under the rules as itself', async () => {
    const doc = await gw.http(DOCUMENT, { c: 'notes', id: 'n1' }, tokens.root);
    expect(doc).toEqual({ data: { document: null } });
  });
});

describe('writes to documents that do not exist', () => {
  it('refuses an UPDATE or DELETE of a document never created, so nothing is planted', async () => {
    const bob = await open('bob', 'bob-5');
    const later = hlc(Date.now() + 4 * 60_000); // inside the allowed skew
    const r = await upload(
      'bob',
      bob,
      [update('notes', 'future', { ownerId: 'bob', planted: true }), remove('notes', 'future2')],
      later,
    );
    expect(r.data!.uploadChanges.compensatingWrites).toEqual([
      {
        collection: 'notes',
        id: 'future',
        reason: expect.stringContaining('NOT_FOUND'),
        document: null,
      },
      {
        collection: 'notes',
        id: 'future2',
        reason: expect.stringContaining('NOT_FOUND'),
        document: null,
      },
    ]);
    const created = await upload('alice', aliceSession, [
      note('future', { ownerId: 'alice', text: 'mine' }),
      note('future2', { ownerId: 'alice' }),
    ]);
    expect(created.data!.uploadChanges.compensatingWrites).toEqual([]);
    const docs = await gw.gateway.core.store.getDocuments([
      { collection: 'notes', id: 'future' },
      { collection: 'notes', id: 'future2' },
    ]);
    expect(docs.map((d) => d?.doc)).toEqual([
      { _id: 'future', ownerId: 'alice', text: 'mine' },
      { _id: 'future2', ownerId: 'alice' },
    ]);
  });

  it("refuses writes into another user's deleted document, judged by what it was", async () => {
    const bob = await open('bob', 'bob-6');
    const r = await upload('bob', bob, [update('notes', 'gone', { ownerId: 'bob', planted: 1 })]);
    expect(r.data!.uploadChanges.compensatingWrites).toMatchObject([
      { id: 'gone', reason: expect.stringContaining('PERMISSION_DENIED'), document: null },
    ]);
    expect(JSON.stringify(r)).not.toContain(SECRET);
    await upload('alice', aliceSession, [note('gone', { ownerId: 'alice', back: true })]);
    const [gone] = await gw.gateway.core.store.getDocuments([{ collection: 'notes', id: 'gone' }]);
    expect(gone?.doc).toEqual({ _id: 'gone', ownerId: 'alice', back: true });
  });
});

describe('a rule that does not compile for one user', () => {
  it('allows that user nothing, and the gateway goes on', async () => {
    const { UserPermissions } = await import('../src/sync/permissions.js');
    const rules = {
      default: { read: { ownerId: { $regex: '%%user.id' } }, write: false },
      collections: {},
    };
    const odd = new UserPermissions(rules, 'a(b');
    expect(odd.canRead('notes', { _id: 'x', ownerId: 'a(b' })).toBe(false);
    const plain = new UserPermissions(rules, 'ann');
    expect(plain.canRead('notes', { _id: 'x', ownerId: 'ann' })).toBe(true);
  });
});
