/**
 * The tabs GraphiQL opens on (when the browser has none stored yet): this gateway's API in
 * the order a client uses it, each operation with its variables, ready to run. The
 * changeset's timestamp is the time the page is loaded, taken in the browser, so the page
 * itself stays the same bytes for every request (compressed once, cached by its ETag).
 */
import type { GraphiQLOptions } from 'graphql-yoga';
import { DOCUMENT_PAGE } from '../schema/document-connection.js';

type Tab = NonNullable<GraphiQLOptions['defaultTabs']>[number];

/** Stands for the page's load time in the rendered page's options; see withPageLoadTime. */
export const PAGE_LOAD_HLC = '__SYNC_GATEWAY_PAGE_LOAD_HLC__';
/** What tabs 2 to 5 send until the id from tab 1 is pasted (NOT_FOUND names it). */
export const SESSION_ID_PLACEHOLDER = 'ses_PASTE_THE_ID_FROM_TAB_1';
export const DEMO_CLIENT_ID = 'graphiql-demo';
export const DEMO_COLLECTION = 'todos';

const variables = (value: Record<string, unknown>) => JSON.stringify(value, null, 2);

// Comments are wrapped for the editor's width beside the result (about 60 columns).
const openSession = `# This gateway's API, one step per tab, in order (1-6).
# In development mode (no JWT_SECRET) a request without
# a token acts as the user "dev". Otherwise set Headers to
# {"Authorization": "Bearer TOKEN"}, a token minted by
# npx sync-gateway token --sub alice (subscriptions send
# it too).
#
# 1. Open the session of the client "${DEMO_CLIENT_ID}", which
#    syncs the ${DEMO_COLLECTION} you may read (a clientId is the first
#    user's to open it: take another if it is taken).
#    Copy the id it answers into the "sessionId" variable
#    of tabs 2 to 5.
mutation OpenSession {
  openSession(
    input: {
      clientId: "${DEMO_CLIENT_ID}"
      queries: [{ collection: "${DEMO_COLLECTION}" }]
    }
  ) {
    id
    clientId
    state
    queriesVersion
    queries {
      collection
      filter
    }
  }
}
`;

const uploadChangeset = `# 2. Upload a changeset that inserts a todo. The default
#    rules let you write the documents whose ownerId is
#    your user id ("dev" in development mode).
#    timestamp: the changeset's hybrid logical clock, here
#    the time this page was loaded. For another changeset
#    raise clientVersion and take the time again (in the
#    browser console: new Date().toISOString() + "-0000").
#    A changeset sent again is acknowledged, not reapplied.
mutation UploadChangeset(
  $sessionId: ID!
  $changesets: [ChangesetInput!]!
  $latestClientVersion: Int
) {
  uploadChanges(
    sessionId: $sessionId
    changesets: $changesets
    latestClientVersion: $latestClientVersion
  ) {
    lastIntegratedClientVersion
    serverVersion
    compensatingWrites {
      collection
      id
      reason
      document
    }
  }
}
`;

const followChanges = `# 3. Follow the session's changes (a subscription, over
#    graphql-ws). since: 0 bootstraps: its first batch
#    brings what the session's queries see (the todo).
#    GraphiQL shows the newest message only: the first
#    batch of the live stream comes right after, empty
#    while nothing changes (its toServerVersion is what
#    tab 4 acknowledges). The documents: tab 6.
subscription FollowChanges($sessionId: ID!, $since: Int) {
  changes(sessionId: $sessionId, since: $since) {
    fromServerVersion
    toServerVersion
    queriesVersion
    bootstrapUntil
    remainingChanges
    changes {
      op
      collection
      id
      document
    }
  }
}
`;

const acknowledgeDownload = `# 4. Acknowledge what the client applied: toServerVersion
#    and queriesVersion of the last batch of tab 3 (1 and 0
#    on a new gateway).
mutation AcknowledgeDownload(
  $sessionId: ID!
  $serverVersion: Int!
  $queriesVersion: Int
) {
  acknowledgeDownload(
    sessionId: $sessionId
    serverVersion: $serverVersion
    queriesVersion: $queriesVersion
  ) {
    lastDownloadedServerVersion
    queriesVersion
    downloadProgress {
      progressEstimate
      transferredBytes
      transferableBytes
    }
  }
}
`;

const watchProgress = `# 5. Watch the progress of one direction, from 0 to 1.
#    FOR_CURRENTLY_OUTSTANDING_WORK completes at 1 (the
#    download does once tab 4 acknowledged everything);
#    REPORT_INDEFINITELY keeps following new work.
subscription WatchProgress(
  $sessionId: ID!
  $direction: ProgressDirection!
  $mode: ProgressMode!
) {
  progress(sessionId: $sessionId, direction: $direction, mode: $mode) {
    direction
    progressEstimate
    transferredBytes
    transferableBytes
  }
}
`;

const browseDocuments = `# 6. Browse a collection: the documents you may read, in
#    id order, a page at a time (first: at most ${DOCUMENT_PAGE.maxFirst}).
#    While hasNextPage, run it again with "after" set to
#    endCursor. A page looks at ${DOCUMENT_PAGE.maxScanned} documents at most, so
#    it may hold fewer than "first" (even none) when most
#    of them are not yours to read.
query BrowseDocuments($collection: String!, $first: Int, $after: String) {
  documents(collection: $collection, first: $first, after: $after) {
    edges {
      node
    }
    pageInfo {
      hasNextPage
      endCursor
    }
  }
}
`;

const sessionId = SESSION_ID_PLACEHOLDER;

export const GRAPHIQL_TABS: Tab[] = [
  // No variables: GraphiQL 5 does not load the first tab's variables (graphql/graphiql#3392).
  { query: openSession },
  {
    query: uploadChangeset,
    variables: variables({
      sessionId,
      changesets: [
        {
          clientVersion: 1,
          timestamp: PAGE_LOAD_HLC,
          changes: [
            {
              collection: DEMO_COLLECTION,
              id: 'todo-1',
              op: 'INSERT',
              document: { text: 'Try the sync gateway', done: false, ownerId: 'dev' },
            },
          ],
        },
      ],
      latestClientVersion: 1,
    }),
  },
  { query: followChanges, variables: variables({ sessionId, since: 0 }) },
  {
    query: acknowledgeDownload,
    variables: variables({ sessionId, serverVersion: 1, queriesVersion: 0 }),
  },
  {
    query: watchProgress,
    variables: variables({
      sessionId,
      direction: 'DOWNLOAD',
      mode: 'FOR_CURRENTLY_OUTSTANDING_WORK',
    }),
  },
  {
    query: browseDocuments,
    variables: variables({ collection: DEMO_COLLECTION, first: 20, after: null }),
  },
];

/** A new tab's text. */
export const GRAPHIQL_DEFAULT_QUERY = `# Write an operation here: Ctrl-Space completes, and the
# Docs explorer (top left) shows the schema. The first
# tabs hold this gateway's API, a step per tab, in order.
`;

/** The page's options, but the ones yoga.ts sets (title, subscriptions protocol). */
export const GRAPHIQL_EXAMPLES: GraphiQLOptions = {
  defaultTabs: GRAPHIQL_TABS,
  defaultQuery: GRAPHIQL_DEFAULT_QUERY,
  defaultEditorToolsVisibility: 'variables',
};

/** An HLC timestamp of `date` with counter 0: 2026-11-26T19:55:08.123Z-0000. */
export const hlcOf = (date: Date): string => `${date.toISOString()}-0000`;

/**
 * Makes the page's load time, taken by the browser, the changeset's timestamp: the
 * placeholder sits in a JavaScript string of the page's inlined options (the tab's
 * variables, JSON in JSON), and becomes a concatenation with `new Date().toISOString()`.
 * Should the page not have it exactly once (another renderer), the render time is used.
 */
export function withPageLoadTime(html: string, renderedAt: Date = new Date()): string {
  const parts = html.split(PAGE_LOAD_HLC);
  if (parts.length !== 2) return parts.join(hlcOf(renderedAt));
  return parts.join('" + new Date().toISOString() + "-0000');
}
