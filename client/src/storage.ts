/** Where a local database keeps its state between runs. */
import type { ChangeInput } from './gql/graphql.js';

export type Doc = Record<string, unknown> & { _id: string };

/** A changeset made locally and not yet acknowledged by the gateway. */
export interface PendingChangeset {
  clientVersion: number;
  timestamp: string;
  changes: ChangeInput[];
}

export interface DatabaseState {
  clientId: string;
  /** Documents as the gateway last sent them, by `collection/id`. */
  serverDocs: Record<string, Doc>;
  pending: PendingChangeset[];
  /** The last client version made (sent or not). */
  clientVersion: number;
  /** The last server version applied and acknowledged. */
  serverVersion: number;
  lastTimestamp: string | null;
}

export interface Storage {
  load(): Promise<DatabaseState | null>;
  save(state: DatabaseState): Promise<void>;
}

/** Keeps the state in memory only: unsynced writes are lost with the process. */
export class MemoryStorage implements Storage {
  private state: DatabaseState | null = null;

  async load(): Promise<DatabaseState | null> {
    return this.state && structuredClone(this.state);
  }

  async save(state: DatabaseState): Promise<void> {
    this.state = structuredClone(state);
  }
}
