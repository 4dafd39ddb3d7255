/**
 * The fuzz properties, against a real gateway (FuzzGateway: a child process on a SQLite
 * file), shared by test/fuzz-http.test.ts, test/fuzz-ws.test.ts and scripts/fuzz.ts. Every
 * run checks that the gateway
 *
 * - answers within the hang bound (FUZZ_HANG_MS, 10 s): a hang detector, not a timing test;
 * - refuses with coded errors only: each GraphQL error has an `extensions.code` of
 *   src/errors.ts or of Yoga's own refusals (parse, validation, bad request), never a 5xx
 *   or INTERNAL_SERVER_ERROR (fuzz-harness.ts lists the known exceptions);
 * - writes nothing when it refuses (the store's rows, read from the SQLite file, are the same
 *   before and after), and never accepts what the contract says it refuses;
 * - still serves afterwards: /health and a known-good operation answer, and it logged no error.
 */
import fc from 'fast-check';
import WebSocket from 'ws';
import { documentCase, type DocumentCase } from './fuzz-documents.js';
import { clientIdCase, queriesCase } from './fuzz-filters.js';
import { frameCase, runFrames } from './fuzz-frames.js';
import {
  bounded,
  errorsProblems,
  FuzzGateway,
  RawJson,
  serialize,
  show,
  storeDiff,
  storedDocumentProblem,
  type HttpOutcome,
} from './fuzz-harness.js';
import { insertedKeys, UPLOAD, uploadCase, uploadVariables } from './fuzz-uploads.js';

export interface Fixture {
  gw: FuzzGateway;
  alice: string;
  bob: string;
  carol: string;
  /** alice's token with its signature changed. */
  forged: string;
  /** alice's session (uploads), her closed one, her session for updateQueries. */
  own: string;
  closed: string;
  filters: string;
  /** bob's session (another user's), carol's (the GraphQL documents and frames). */
  other: string;
  carolSession: string;
  knownGood: { query: string; variables: Record<string, unknown>; token: string };
}

const OPEN = `mutation Open($input: OpenSessionInput!) { openSession(input: $input) { id } }`;
const UPDATE_QUERIES = `mutation Update($s: ID!, $q: [SyncQueryInput!]!) {
  updateQueries(sessionId: $s, queries: $q) { id queriesVersion } }`;

async function openSession(gw: FuzzGateway, token: string, clientId: string): Promise<string> {
  const r = await gw.gql(OPEN, { input: { clientId, queries: [{ collection: 'cars' }] } }, token);
  const id = (r.body?.data as { openSession?: { id?: string } } | undefined)?.openSession?.id;
  if (!id) throw new Error(`openSession ${clientId} failed: ${r.status} ${r.text}`);
  return id;
}

/** Documents the filters meet: strings that make backtracking patterns work, nesting, dates. */
const SEED_DOCUMENTS = [
  { name: `${'a'.repeat(27)}!`, n: 5, tags: ['x', `${'a'.repeat(27)}!`], meta: { x: 1 } },
  { name: 'abc', n: -1, tags: [], meta: { x: 'aaaa', y: [1, [2, [3]]] } },
  { name: '1'.repeat(30) + 'x', n: 1e308, when: { $date: '2026-11-27T10:00:00.000Z' } },
  { name: '', n: 0, tags: [{ a: 1 }, null], meta: null },
];

export async function setupFixture(gw: FuzzGateway): Promise<Fixture> {
  const [alice, bob, carol] = await Promise.all(['alice', 'bob', 'carol'].map((u) => gw.token(u)));
  const forged = `${alice!.slice(0, -4)}AAAA`;
  const own = await openSession(gw, alice!, 'fuzz-alice');
  const closed = await openSession(gw, alice!, 'fuzz-alice-closed');
  const filters = await openSession(gw, alice!, 'fuzz-alice-filters');
  const other = await openSession(gw, bob!, 'fuzz-bob');
  const carolSession = await openSession(gw, carol!, 'fuzz-carol');
  const close = await gw.gql(
    'mutation ($id: ID!) { closeSession(id: $id) }',
    { id: closed },
    alice,
  );
  if (close.body?.errors) throw new Error(`closeSession failed: ${close.text}`);
  const seed = await gw.gql(
    UPLOAD,
    {
      s: own,
      cs: [
        {
          clientVersion: 1,
          timestamp: `${new Date().toISOString()}-0000`,
          changes: ['cars', 'notes'].flatMap((collection) =>
            SEED_DOCUMENTS.map((doc, i) => ({
              collection,
              id: `seed-${i}`,
              op: 'INSERT',
              document: { ...doc, ownerId: 'alice' },
            })),
          ),
        },
      ],
    },
    alice,
  );
  if (seed.body?.errors || !seed.body?.data) throw new Error(`seeding failed: ${seed.text}`);
  return {
    gw,
    alice: alice!,
    bob: bob!,
    carol: carol!,
    forged,
    own,
    closed,
    filters,
    other,
    carolSession,
    knownGood: {
      query: 'query Alive($id: ID!) { session(id: $id) { id lastIntegratedClientVersion } }',
      variables: { id: own },
      token: alice!,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Checks

/** What is wrong with an HTTP answer to a refused or accepted request (empty: nothing). */
export function httpProblems(r: HttpOutcome): string[] {
  const problems: string[] = [];
  // GraphiQL's page, for a GET that accepts HTML (development mode).
  if (r.status === 200 && r.type.startsWith('text/html')) return [];
  if (r.body === undefined) {
    // 405, 406, 413, 415, 431...: refused before GraphQL, by status alone.
    if (r.status >= 400 && r.status < 500) return [];
    return [`HTTP ${r.status} without a JSON body`];
  }
  if (!('data' in r.body) && !('errors' in r.body)) problems.push('neither data nor errors');
  problems.push(...errorsProblems(r.body.errors, 'http'));
  if (r.status >= 500) problems.push(`HTTP ${r.status}`);
  return problems;
}

const described = (labels: string[], request: string, r: HttpOutcome) =>
  `\n  mutations: ${labels.join('; ') || '(none)'}\n  request: ${show(request, 3000)}` +
  `\n  response: HTTP ${r.status} ${show(r.text, 3000)}`;

type Row = Record<string, unknown>;

/** FuzzGateway.assertAlive, its failure told with what the run sent. */
async function alive(f: Fixture, context: string): Promise<void> {
  try {
    await f.gw.assertAlive(f.knownGood);
  } catch (error) {
    throw new Error(`${(error as Error).message}${context}`, { cause: error });
  }
}

// ---------------------------------------------------------------------------------------------
// (a) uploadChanges

export function uploadProperty(f: Fixture) {
  return fc.asyncProperty(uploadCase, async (c) => {
    await f.gw.ensureUp();
    const before = f.gw.snapshot();
    const session = (before.sessions as Row[]).find((s) => s.id === f.own);
    const variables = uploadVariables(c, {
      sessions: { own: f.own, other: f.other, closed: f.closed },
      next: Number(session?.last_integrated ?? 0) + 1,
      now: Date.now(),
    });
    const body = serialize({ query: UPLOAD, variables });
    const r = await f.gw.post(body, { token: f.alice });
    const context = described(c.labels, body, r);
    const problems = httpProblems(r);
    if (problems.length > 0) throw new Error(`${problems.join('; ')}${context}`);
    const after = f.gw.snapshot();
    const ack = (r.body?.data as { uploadChanges?: Row } | null | undefined)?.uploadChanges;
    if (r.body?.errors !== undefined) {
      if (ack) throw new Error(`errors beside an acknowledgement${context}`);
      const diff = storeDiff(before, after);
      if (diff) throw new Error(`a refused upload wrote to the store:\n${diff}${context}`);
      if (c.labels.length === 0) throw new Error(`a valid upload was refused${context}`);
    } else {
      if (!ack) throw new Error(`neither errors nor an acknowledgement${context}`);
      if (c.mustRefuse) {
        throw new Error(
          `accepted an upload the contract refuses (${c.labels.join('; ')})${context}`,
        );
      }
      for (const row of after.documents as Row[]) {
        const problem = typeof row.doc === 'string' ? storedDocumentProblem(row.doc) : null;
        if (problem) throw new Error(`stored ${row.collection}/${row.id}: ${problem}${context}`);
      }
      const compensated = new Set(
        ((ack.compensatingWrites ?? []) as Row[]).map((w) => `${w.collection}/${w.id}`),
      );
      for (const [collection, id] of insertedKeys(variables)) {
        if (compensated.has(`${collection}/${id}`)) continue;
        const rows = (after.documents as Row[]).filter((d) => d.collection === collection);
        if (rows.some((d) => d.id === id)) continue;
        const underAnother = rows.find(
          (d) => typeof d.doc === 'string' && (JSON.parse(d.doc) as Row)._id === id,
        );
        if (underAnother) {
          throw new Error(
            `an acknowledged INSERT of ${collection}/${JSON.stringify(id)} is stored under the id ` +
              `${JSON.stringify(underAnother.id)}, which downloads then carry${context}`,
          );
        }
        throw new Error(
          `an acknowledged INSERT of ${collection}/${JSON.stringify(id)} is not stored${context}`,
        );
      }
    }
    await alive(f, context);
  });
}

// ---------------------------------------------------------------------------------------------
// (b) openSession / updateQueries with generated filters

export function filtersProperty(f: Fixture) {
  const input = fc.record({
    op: fc.constantFrom('openSession' as const, 'updateQueries' as const),
    clientId: clientIdCase,
    queries: queriesCase,
  });
  return fc.asyncProperty(input, async (c) => {
    await f.gw.ensureUp();
    const before = f.gw.snapshot();
    const open = c.op === 'openSession';
    const body = open
      ? serialize({
          query: OPEN,
          variables: { input: { clientId: c.clientId.id, queries: c.queries.queries } },
        })
      : serialize({ query: UPDATE_QUERIES, variables: { s: f.filters, q: c.queries.queries } });
    const r = await f.gw.post(body, { token: f.alice });
    const labels = [c.op, ...(open && c.clientId.bad ? ['bad clientId'] : []), ...c.queries.labels];
    const context = described(labels, body, r);
    const problems = httpProblems(r);
    if (problems.length > 0) throw new Error(`${problems.join('; ')}${context}`);
    if (r.body?.errors !== undefined) {
      const diff = storeDiff(before, f.gw.snapshot());
      if (diff) throw new Error(`a refused ${c.op} wrote to the store:\n${diff}${context}`);
    } else if (c.queries.mustRefuse || (open && c.clientId.bad)) {
      throw new Error(`accepted a ${c.op} the contract refuses${context}`);
    }
    await alive(f, context);
  });
}

// ---------------------------------------------------------------------------------------------
// (c) GraphQL documents over HTTP

function httpRequest(c: DocumentCase, token: string) {
  const fields: Record<string, unknown> = { query: c.query, variables: c.variables };
  if ('operationName' in c) fields.operationName = c.operationName;
  if ('extensions' in c) fields.extensions = c.extensions;
  const json = serialize(fields);
  const t = c.transport;
  const headers = { 'content-type': t.contentType, accept: t.accept };
  if (t.method === 'GET') {
    const params = new URLSearchParams();
    const text = (v: unknown) => (v instanceof RawJson ? (JSON.parse(v.json) as string) : v);
    const q = text(c.query);
    params.set('query', typeof q === 'string' ? q : serialize(q));
    if (c.variables !== undefined) params.set('variables', serialize(c.variables));
    if (typeof c.operationName === 'string') params.set('operationName', c.operationName);
    return { method: 'GET', search: params.toString(), headers, token, body: undefined };
  }
  const bodies: Record<DocumentCase['transport']['body'], string> = {
    json,
    batch: `[${json},${json}]`,
    'not-json': `${json.slice(0, -1)} garbage`,
    empty: '',
    'duplicate-keys': `{"query":"{ __typename }",${json.slice(1)}`,
    form: new URLSearchParams({
      query: String(fields.query),
      variables: serialize(c.variables),
    }).toString(),
  };
  return { method: 'POST', body: bodies[t.body], headers, token };
}

export function documentsProperty(f: Fixture) {
  const cases = documentCase({ session: f.carolSession, otherSession: f.other });
  return fc.asyncProperty(cases, async (c) => {
    await f.gw.ensureUp();
    const before = f.gw.snapshot();
    const request = httpRequest(c, f.carol);
    const r = await f.gw.send(request);
    const context = described(
      c.labels,
      `${request.method} ${request.search ?? ''} ${request.body ?? ''}`,
      r,
    );
    const problems = httpProblems(r);
    if (problems.length > 0) throw new Error(`${problems.join('; ')}${context}`);
    // Refused before execution (no `data`): nothing ran, so no document may have been written.
    // (Sessions are left out: a stream an earlier run opened writes its session when it ends.)
    if (r.body === undefined || !('data' in r.body)) {
      const diff = storeDiff(before, f.gw.snapshot(), ['documents', 'history']);
      if (diff) throw new Error(`a request refused before execution wrote:\n${diff}${context}`);
    }
    await alive(f, context);
  });
}

// ---------------------------------------------------------------------------------------------
// (d) graphql-ws frames

/** What is wrong with how the gateway closed a socket (null: a protocol refusal). */
function closeProblem(close: { code: number; reason: string } | null): string | null {
  if (close === null) return null;
  const { code, reason } = close;
  if ([1000, 1001, 1002, 1005, 1007, 1008, 1009].includes(code)) return null;
  if (code >= 4000 && code < 4500) return null;
  return `the gateway closed the socket with ${code} "${reason}"`;
}

function messageProblems(messages: unknown[]): string[] {
  return messages.flatMap((m) => {
    if (typeof m !== 'object' || m === null) return [`a message that is not JSON: ${show(m)}`];
    const msg = m as { type?: unknown; payload?: unknown };
    if (msg.type === 'error') return errorsProblems(msg.payload, 'ws');
    if (msg.type === 'next') {
      const payload = msg.payload as { errors?: unknown } | null;
      return errorsProblems(payload?.errors, 'ws');
    }
    if (['connection_ack', 'ping', 'pong', 'complete'].includes(String(msg.type))) return [];
    return [`a message of type ${show(msg.type)}`];
  });
}

/** Whether a message acknowledges an upload (then documents and history may change). */
const acceptedUpload = (messages: unknown[]) =>
  messages.some((m) => {
    const data = (m as { payload?: { data?: Record<string, unknown> | null } })?.payload?.data;
    return Boolean(
      data && Object.values(data).some((v) => v && typeof v === 'object' && 'serverVersion' in v),
    );
  });

export function framesProperty(f: Fixture) {
  const cases = frameCase({
    session: f.carolSession,
    otherSession: f.other,
    token: f.carol,
    forgedToken: f.forged,
    otherToken: f.bob,
  });
  let previous = '';
  return fc.asyncProperty(cases, async (c) => {
    await f.gw.ensureUp();
    // A socket's last messages may be handled after its run ended: what they logged is told
    // with that run's frames.
    const late = f.gw.takeLogs();
    if (late.length > 0) {
      throw new Error(
        `the gateway logged errors after an earlier run:\n${late.map((l) => show(l, 600)).join('\n')}` +
          `\n  the earlier run:${previous}`,
      );
    }
    const before = f.gw.snapshot();
    const out = await runFrames(f.gw.wsUrl, c, f.carol);
    const context =
      `\n  frames: ${show(
        c.frames.map((x) => (x.kind === 'binary' ? { binary: [...x.bytes] } : x)),
        3000,
      )}` + `\n  received: ${show(out.messages, 3000)}\n  close: ${show(out.serverClose)}`;
    previous = context;
    const problems = [
      ...(out.refused && c.protocol === 'graphql-transport-ws'
        ? [`the handshake was refused: ${out.refused}`]
        : []),
      ...[closeProblem(out.serverClose)].filter((p): p is string => p !== null),
      ...messageProblems(out.messages),
    ];
    if (problems.length > 0) throw new Error(`${problems.join('; ')}${context}`);
    if (!acceptedUpload(out.messages)) {
      const diff = storeDiff(before, f.gw.snapshot(), ['documents', 'history']);
      if (diff) throw new Error(`frames without an accepted upload wrote:\n${diff}${context}`);
    }
    await alive(f, context);
  });
}

// ---------------------------------------------------------------------------------------------
// (b, streamed) generated filters meet documents in a download stream

const CHANGES = `subscription Changes($s: ID!) { changes(sessionId: $s, since: 0) {
  toServerVersion changes { id op } } }`;

/** The first message a subscription gets over a fresh socket (or its close), within the bound. */
async function firstMessage(wsUrl: string, token: string, query: string, variables: unknown) {
  const ws = new WebSocket(wsUrl, 'graphql-transport-ws');
  type Close = { code: number; reason: string } | null;
  try {
    return await bounded(
      'the first batch of a download stream',
      new Promise<{ message: unknown; close: Close }>((resolve, reject) => {
        ws.on('error', reject);
        ws.on('open', () =>
          ws.send(JSON.stringify({ type: 'connection_init', payload: { authToken: token } })),
        );
        ws.on('message', (data: Buffer) => {
          const msg = JSON.parse(data.toString()) as { type?: string; id?: string };
          if (msg.type === 'connection_ack') {
            ws.send(serialize({ id: 's', type: 'subscribe', payload: { query, variables } }));
          } else if (msg.id === 's') {
            resolve({ message: msg, close: null });
          }
        });
        ws.on('close', (code, reason) => {
          resolve({ message: undefined, close: { code, reason: reason.toString() } });
        });
      }),
    );
  } finally {
    ws.terminate();
  }
}

export function filterStreamProperty(f: Fixture) {
  return fc.asyncProperty(queriesCase, async (q) => {
    await f.gw.ensureUp();
    const body = serialize({ query: UPDATE_QUERIES, variables: { s: f.filters, q: q.queries } });
    const r = await f.gw.post(body, { token: f.alice });
    const context = described(q.labels, body, r);
    const problems = httpProblems(r);
    if (problems.length > 0) throw new Error(`${problems.join('; ')}${context}`);
    if (r.body?.errors === undefined) {
      const out = await firstMessage(f.gw.wsUrl, f.alice, CHANGES, { s: f.filters });
      const streamProblems = [
        ...[closeProblem(out.close)].filter((p): p is string => p !== null),
        ...(out.message ? messageProblems([out.message]) : []),
      ];
      if (streamProblems.length > 0) {
        throw new Error(`the stream: ${streamProblems.join('; ')}: ${show(out)}${context}`);
      }
    }
    await alive(f, context);
  });
}
