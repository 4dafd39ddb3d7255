/**
 * DocumentConnection, and the page of `documents(collection, first, after)`: the documents
 * of a collection the caller may read, in id order. The scan of one page is bounded: a
 * caller who may read few documents of a huge collection gets a short (even empty) page
 * with hasNextPage and a cursor to go on from, never a request that reads everything.
 */
import { badInput } from '../errors.js';
import type { JsonObject } from '../sync/model.js';
import type { UserPermissions } from '../sync/permissions.js';
import type { ScopeCondition } from '../sync/scope-condition.js';
import type { SyncCore } from '../sync/sync-core.js';
import { builder } from './builder.js';
import type { DocumentCursors } from './document-cursor.js';

export const DOCUMENT_PAGE = {
  /** Documents per page when `first` is not given. */
  defaultFirst: 20,
  /** The largest `first` (documents are up to MAX_DOCUMENT_BYTES each). */
  maxFirst: 100,
  /** Documents read from the store for one page at most, readable or not. */
  maxScanned: 1000,
  /** Documents read from the store at a time (fewer when the bound is near). */
  scanBatch: 100,
};

export interface DocumentEdgeShape {
  cursor: string;
  node: JsonObject;
}

export interface DocumentPage {
  edges: DocumentEdgeShape[];
  pageInfo: {
    hasNextPage: boolean;
    hasPreviousPage: boolean;
    startCursor: string | null;
    endCursor: string | null;
  };
}

export const DocumentConnectionRef = builder.connectionObject(
  {
    type: 'JSON',
    name: 'DocumentConnection',
    description:
      'A page of documents, in id order. hasNextPage: the scan has not reached the end of the collection (the next page may still be empty); endCursor: where the next page starts, set even when this page has no edges.',
  },
  {
    name: 'DocumentEdge',
    description: 'A document the caller may read (its current version, `_id` included).',
  },
);

export interface DocumentPageArgs {
  collection: string;
  first?: number | null;
  after?: string | null;
}

export interface DocumentPageDeps {
  /** The store's `scanDocuments`: existing documents of a collection in id order. */
  store: Pick<SyncCore['store'], 'scanDocuments'>;
  /**
   * What the store may narrow the scan by: the caller's read rule as a store condition
   * (sync/scope-pushdown.ts), so a page reads the caller's documents, not the collection's.
   * A store may still return others; `permissions` decides each one.
   */
  where?: ScopeCondition;
  permissions: Pick<UserPermissions, 'canRead'>;
  cursors: DocumentCursors;
  /** Aborts when the caller goes away: the scan stops between batches. */
  signal?: AbortSignal;
}

function pageSize(first: number | null | undefined): number {
  if (first == null) return DOCUMENT_PAGE.defaultFirst;
  if (first < 1 || first > DOCUMENT_PAGE.maxFirst) {
    throw badInput('first', `must be from 1 to ${DOCUMENT_PAGE.maxFirst}`);
  }
  return first;
}

/**
 * One page: batches are read after the cursor until `first` readable documents are found,
 * the collection ends, or `maxScanned` documents have been read. `endCursor` is where the
 * scan stopped (sealed, so it does not tell an unreadable document's id).
 */
export async function readDocumentPage(
  args: DocumentPageArgs,
  deps: DocumentPageDeps,
): Promise<DocumentPage> {
  const { collection } = args;
  const first = pageSize(args.first);
  let position = args.after != null ? deps.cursors.open('after', collection, args.after) : '';
  const edges: DocumentEdgeShape[] = [];
  let scanned = 0;
  let hasNextPage = true;
  scan: while (scanned < DOCUMENT_PAGE.maxScanned) {
    deps.signal?.throwIfAborted();
    const limit = Math.min(DOCUMENT_PAGE.scanBatch, DOCUMENT_PAGE.maxScanned - scanned);
    const batch = await deps.store.scanDocuments(collection, position, limit, deps.where);
    const ended = batch.length < limit;
    for (const [index, stored] of batch.entries()) {
      scanned += 1;
      position = stored.id;
      if (!stored.doc || !deps.permissions.canRead(collection, stored.doc)) continue;
      edges.push({ cursor: deps.cursors.seal(collection, stored.id), node: stored.doc });
      if (edges.length === first) {
        hasNextPage = index < batch.length - 1 || !ended;
        break scan;
      }
    }
    if (ended) {
      hasNextPage = false;
      break;
    }
  }
  const last = edges[edges.length - 1];
  const stoppedAtLastEdge = last !== undefined && edges.length === first;
  const endCursor = stoppedAtLastEdge
    ? last.cursor
    : position !== ''
      ? deps.cursors.seal(collection, position)
      : (args.after ?? null);
  return {
    edges,
    pageInfo: {
      hasNextPage,
      hasPreviousPage: args.after != null,
      startCursor: edges[0]?.cursor ?? null,
      endCursor,
    },
  };
}
