/**
 * What the server holds in a client's scope, to end every client test on "every client
 * equals the server": the documents matching the client's queries that its user may read,
 * read from the gateway's store (in process) or from its SQLite file (a child process).
 */
import Database from 'better-sqlite3';
import type { SyncStore } from '../../src/store/port.js';
import type { JsonObject, SyncQuery } from '../../src/sync/model.js';
import { OWNER_RULES, UserPermissions, type RulesConfig } from '../../src/sync/permissions.js';
import { Scope } from '../../src/sync/scope.js';

export interface ClientScope {
  user: string;
  queries: { collection: string; filter?: unknown }[];
  rules?: RulesConfig;
}

const DEFAULT_RULES: RulesConfig = { default: OWNER_RULES, collections: {} };

function scopeOf(client: ClientScope): Scope {
  const queries: SyncQuery[] = client.queries.map((q) => ({
    collection: q.collection,
    filter: (q.filter ?? null) as JsonObject | null,
  }));
  return new Scope(queries, new UserPermissions(client.rules ?? DEFAULT_RULES, client.user));
}

const byId = (a: JsonObject, b: JsonObject) =>
  String(a._id) < String(b._id) ? -1 : String(a._id) > String(b._id) ? 1 : 0;

/** The server's documents of `collection` in the client's scope, sorted by id. */
export async function serverScope(store: SyncStore, client: ClientScope, collection: string) {
  const scope = scopeOf(client);
  const docs: JsonObject[] = [];
  for (let after = ''; ;) {
    const page = await store.scanDocuments(collection, after, 500);
    for (const d of page) if (scope.includes(collection, d.doc)) docs.push(d.doc!);
    if (page.length < 500) break;
    after = page[page.length - 1]!.id;
  }
  return docs.sort(byId);
}

/** The same, read from a gateway's SQLite file (while it runs: WAL lets readers in). */
export function fileScope(file: string, client: ClientScope, collection: string) {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const rows = db
      .prepare('SELECT doc FROM documents WHERE collection = ? AND doc IS NOT NULL')
      .all(collection) as { doc: string }[];
    const scope = scopeOf(client);
    const docs = rows.map((r) => JSON.parse(r.doc) as JsonObject);
    return docs.filter((d) => scope.includes(collection, d)).sort(byId);
  } finally {
    db.close();
  }
}

/** A client's documents of `collection`, sorted by id, as plain JSON. */
export function clientDocs(db: { all(collection: string): unknown[] }, collection: string) {
  return (JSON.parse(JSON.stringify(db.all(collection))) as JsonObject[]).sort(byId);
}
