/** What every resolver sees: the viewer, the sync core and this request's loaders. */
import DataLoader from 'dataloader';
import type { SessionService } from '../session/session-service.js';
import type { SyncCore } from '../sync/sync-core.js';
import type { DocumentKey, SessionRecord, StoredDocument, Viewer } from '../sync/model.js';
import type { Authenticator } from '../auth/authenticator.js';

export interface Loaders {
  sessions: DataLoader<string, SessionRecord | undefined>;
  documents: DataLoader<DocumentKey, StoredDocument | undefined, string>;
}

export interface GatewayContext {
  viewer: Viewer | null;
  core: SyncCore;
  sessions: SessionService;
  loaders: Loaders;
  /** Aborts when the caller goes away: the HTTP request, or the graphql-ws socket. */
  signal: AbortSignal | undefined;
  /** The graphql-ws socket the operation came on, if any. */
  socketId: string | null;
}

/** Per-request batched loads: one store round trip per type per tick. */
/**
 * The loaders of one operation, each made on first use: a subscription's context lives as
 * long as the subscription, and most never load anything.
 */
export function createLoaders(core: SyncCore): Loaders {
  let sessions: Loaders['sessions'] | undefined;
  let documents: Loaders['documents'] | undefined;
  return {
    get sessions() {
      return (sessions ??= new DataLoader((ids) => core.store.getSessions(ids)));
    },
    get documents() {
      return (documents ??= new DataLoader((keys) => core.store.getDocuments(keys), {
        cacheKeyFn: (k) => `${k.collection}\u0000${k.id}`,
      }));
    },
  };
}

/** The services the server layer wires into each request's context. */
export interface ContextServices {
  core: SyncCore;
  sessions: SessionService;
  auth: Authenticator;
}
