/**
 * Crash durability: the gateway runs as a child process, clients upload as fast as they
 * can, and the child is SIGKILLed at a random moment. After a restart on the same data
 * dir, every acknowledged changeset must be there exactly once, and re-sending (as a
 * client does after a lost ack) must be acknowledged without applying anything twice.
 * Reproduce a failure with DURABILITY_SEED=<seed printed on failure>.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, expect, it, onTestFailed } from 'vitest';
import { mintToken } from '../src/auth/jwt.js';
import { startChildGateway, type ChildGateway } from './helpers/child-gateway.js';

const SECRET = 'durability-test-secret-0123456789abcdef';
const USERS = ['alice', 'bob', 'carol', 'dave'];
const CLIENTS_PER_USER = 2;

interface Change {
  collection: string;
  id: string;
  op: 'INSERT';
  document: Record<string, unknown>;
}
interface Changeset {
  clientVersion: number;
  timestamp: string;
  changes: Change[];
}
interface UploadAck {
  lastIntegratedClientVersion: number;
  compensatingWrites: unknown[];
}

/** A GraphQL-level error: the server answered, so it is never a crash casualty. */
class GqlError extends Error {}

/** mulberry32: a small seeded PRNG, so a failing run can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---- the gateway child ----------------------------------------------------------

const children = new Set<ChildGateway>();
let dataDir: string | null = null;

async function startChild(dir: string): Promise<ChildGateway> {
  const child = await startChildGateway(dir, { JWT_SECRET: SECRET });
  children.add(child);
  return child;
}

afterEach(async () => {
  for (const child of children) await child.stop();
  children.clear();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  dataDir = null;
});

// ---- a minimal HTTP sync client -------------------------------------------------

async function gql<T>(
  url: string,
  token: string,
  query: string,
  variables: Record<string, unknown>,
): Promise<T> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: T | null; errors?: unknown[] };
  if (body.errors?.length || !body.data)
    throw new GqlError(`GraphQL errors: ${JSON.stringify(body.errors)}`);
  return body.data;
}

const OPEN = `mutation ($input: OpenSessionInput!) { openSession(input: $input) { id } }`;
const UPLOAD = `mutation ($s: ID!, $cs: [ChangesetInput!]!) { uploadChanges(sessionId: $s, changesets: $cs) {
  lastIntegratedClientVersion compensatingWrites { id reason } } }`;
const SESSION = `query ($id: ID!) { session(id: $id) { lastIntegratedClientVersion } }`;

class Client {
  /** Every changeset ever sent (attempted), index = clientVersion - 1. */
  readonly sent: Changeset[] = [];
  /** Highest clientVersion whose uploadChanges answer came back. */
  acked = 0;
  sessionId = '';
  private counter = 0;

  constructor(
    readonly clientId: string,
    readonly userId: string,
    readonly token: string,
    private readonly rng: () => number,
  ) {}

  async open(url: string): Promise<void> {
    const input = { clientId: this.clientId, queries: [{ collection: 'notes' }] };
    this.sessionId = (
      await gql<{ openSession: { id: string } }>(url, this.token, OPEN, { input })
    ).openSession.id;
  }

  /** Makes the next changeset: 1 to 3 inserts of new documents. */
  next(): Changeset {
    const clientVersion = this.sent.length + 1;
    const changes = Array.from({ length: 1 + Math.floor(this.rng() * 3) }, (_, j): Change => ({
      collection: 'notes',
      id: `${this.clientId}-${clientVersion}-${j}`,
      op: 'INSERT',
      document: { ownerId: this.userId, clientVersion, j },
    }));
    this.counter = (this.counter + 1) % 10_000;
    const cs = {
      clientVersion,
      timestamp: `${new Date().toISOString()}-${String(this.counter).padStart(4, '0')}`,
      changes,
    };
    this.sent.push(cs);
    return cs;
  }

  async upload(url: string, changesets: Changeset[]): Promise<UploadAck> {
    return (
      await gql<{ uploadChanges: UploadAck }>(url, this.token, UPLOAD, {
        s: this.sessionId,
        cs: changesets,
      })
    ).uploadChanges;
  }

  async lastIntegrated(url: string): Promise<number> {
    const data = await gql<{ session: { lastIntegratedClientVersion: number } | null }>(
      url,
      this.token,
      SESSION,
      { id: this.sessionId },
    );
    if (!data.session) throw new GqlError(`session ${this.sessionId} of ${this.clientId} is gone`);
    return data.session.lastIntegratedClientVersion;
  }
}

async function makeClients(url: string, rng: () => number): Promise<Client[]> {
  const clients: Client[] = [];
  for (const user of USERS) {
    const token = await mintToken(SECRET, user);
    for (let i = 0; i < CLIENTS_PER_USER; i++)
      clients.push(new Client(`${user}-c${i}`, user, token, rng));
  }
  await Promise.all(clients.map((c) => c.open(url)));
  return clients;
}

/** Uploads changesets one after another until a request fails because of the crash. */
async function uploadUntilCrash(
  url: string,
  client: Client,
  crashed: () => boolean,
): Promise<void> {
  for (;;) {
    const cs = client.next();
    let ack: UploadAck;
    try {
      ack = await client.upload(url, [cs]);
    } catch (error) {
      if (error instanceof GqlError || !crashed()) throw error;
      return;
    }
    expect(ack.lastIntegratedClientVersion).toBe(cs.clientVersion);
    client.acked = cs.clientVersion;
  }
}

// ---- checks ---------------------------------------------------------------------

/** After the restart: nothing acked is lost, and a re-send is acked without re-applying. */
async function checkAndResend(url: string, client: Client): Promise<void> {
  const lastSent = client.sent.length;
  const integrated = await client.lastIntegrated(url);
  expect(integrated, `${client.clientId}: acked ${client.acked}`).toBeGreaterThanOrEqual(
    client.acked,
  );
  expect(integrated, `${client.clientId}: sent ${lastSent}`).toBeLessThanOrEqual(lastSent);
  // Re-send what lost its ack, plus up to two acknowledged changesets, which are
  // certainly integrated already and so must be acknowledged again but not re-applied.
  const ack = await client.upload(url, client.sent.slice(Math.max(0, client.acked - 2)));
  expect(ack.lastIntegratedClientVersion, client.clientId).toBe(lastSent);
  expect(ack.compensatingWrites, client.clientId).toEqual([]);
}

function checkDatabase(file: string, clients: Client[]): void {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const counts = new Map<string, number>();
    const rows = db
      .prepare('SELECT client_id, client_version, count(*) AS n FROM history GROUP BY 1, 2')
      .all();
    for (const r of rows as { client_id: string; client_version: number; n: number }[]) {
      counts.set(`${r.client_id}|${r.client_version}`, r.n);
    }
    const docStmt = db
      .prepare("SELECT doc FROM documents WHERE collection = 'notes' AND id = ?")
      .pluck();
    for (const client of clients) {
      for (const cs of client.sent) {
        const where = `${client.clientId} v${cs.clientVersion} (acked ${client.acked})`;
        expect(
          counts.get(`${client.clientId}|${cs.clientVersion}`),
          `history rows of ${where}`,
        ).toBe(cs.changes.length);
        for (const change of cs.changes) {
          const doc = docStmt.get(change.id) as string | null | undefined;
          expect(doc, `document ${change.id} of ${where}`).toEqual(expect.any(String));
          expect(JSON.parse(doc!)).toMatchObject(change.document);
        }
      }
    }
    const changesets = clients.reduce((n, c) => n + c.sent.length, 0);
    expect(counts.size, 'history holds changesets nobody sent').toBe(changesets);
  } finally {
    db.close();
  }
}

// ---- the test -------------------------------------------------------------------

it('never loses nor doubles an acknowledged changeset across a SIGKILL', async () => {
  const seed = Number(process.env.DURABILITY_SEED ?? Math.floor(Math.random() * 2 ** 31));
  const rng = prng(seed);
  const crashAfterMs = 300 + Math.floor(rng() * 900);
  let clients: Client[] = [];
  onTestFailed(() => {
    const progress = clients
      .map((c) => `${c.clientId} acked ${c.acked}/sent ${c.sent.length}`)
      .join(', ');
    console.error(
      `durability: seed=${seed} crashAfterMs=${crashAfterMs}; ${progress}\nreplay: DURABILITY_SEED=${seed}`,
    );
  });
  dataDir = mkdtempSync(join(tmpdir(), 'sync-gw-durability-'));
  const first = await startChild(dataDir);
  clients = await makeClients(first.url, rng);
  let crashed = false;
  const uploads = Promise.all(clients.map((c) => uploadUntilCrash(first.url, c, () => crashed)));
  // The crash schedule (not a readiness wait); an upload failing before it fails the test.
  await Promise.race([uploads, new Promise((r) => setTimeout(r, crashAfterMs))]);
  crashed = true;
  await first.stop('SIGKILL');
  await uploads;
  expect(
    clients.some((c) => c.acked > 0),
    'no upload was acknowledged before the crash',
  ).toBe(true);

  const second = await startChild(dataDir);
  await Promise.all(clients.map((c) => checkAndResend(second.url, c)));
  expect(await second.stop('SIGTERM'), 'graceful shutdown exit code').toBe(0);

  checkDatabase(join(dataDir, 'gateway.sqlite'), clients);
}, 60_000);
