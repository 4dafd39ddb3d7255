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
  /**
   * A socket operation's own controller (`signal` is its signal): a stream that ends aborts
   * it, rather than making a controller of its own. Null over HTTP.
   */
  operation: AbortController | null;
  /** The graphql-ws socket the operation came on, if any. */
  socketId: string | null;
}

/** Per-request batched loads: one store round trip per type per tick. */
/**
 * The loaders of one operation, each made on first use: a subscription's context lives as
 * long as the subscription, and most never load anything. (A class: no closures per
 * operation until a loader is made.)
 */
class LazyLoaders implements Loaders {
  private sessionLoader: Loaders['sessions'] | undefined;
  private documentLoader: Loaders['documents'] | undefined;

  constructor(private readonly core: SyncCore) {}

  get sessions(): Loaders['sessions'] {
    const { store } = this.core;
    return (this.sessionLoader ??= new DataLoader((ids) => store.getSessions(ids)));
  }

  get documents(): Loaders['documents'] {
    const { store } = this.core;
    return (this.documentLoader ??= new DataLoader((keys) => store.getDocuments(keys), {
      cacheKeyFn: (k) => `${k.collection}\u0000${k.id}`,
    }));
  }
}

export function createLoaders(core: SyncCore): Loaders {
  return new LazyLoaders(core);
}

/** The services the server layer wires into each request's context. */
export interface ContextServices {
  core: SyncCore;
  sessions: SessionService;
  auth: Authenticator;
}
