/**
 * What the sync core, the session service and group commit tell whoever watches them:
 * a port of the domain, filled in by src/server (metrics with prom-client, log lines with
 * pino). The domain knows nothing of either. Calls are synchronous and must not throw. A
 * span (`uploadStarted`, `integrationStarted`) returns the function that ends it, so the
 * watcher times it on its own clock; an open subscription is two calls, opened and closed.
 */
import type { GroupCommitObserver } from '../store/port.js';

/** The subscriptions the gateway serves, by operation (field) name. */
export type SubscriptionName = 'changes' | 'progress' | 'sessionEvents' | 'connectionStateChanges';

export const SUBSCRIPTION_NAMES: readonly SubscriptionName[] = [
  'changes',
  'progress',
  'sessionEvents',
  'connectionStateChanges',
];

/** Why a session must reset. */
export type ResetReason = 'offline' | 'history-compacted';

/**
 * A session's life. `userId` is who did it (the viewer; null when time did it, as when a
 * pause's `until` passes).
 */
export type SessionChange =
  | { type: 'opened' | 'reopened'; sessionId: string; userId: string; clientId: string }
  | {
      type: 'paused';
      sessionId: string;
      userId: string;
      directions: readonly string[];
      until: string | null;
    }
  | { type: 'resumed' | 'closed'; sessionId: string; userId: string | null }
  | { type: 'resetRequired'; sessionId: string; reason: ResetReason };

/** A write refused inside an integration (a compensating write), without its document. */
export interface RefusedWrite {
  collection: string;
  id: string;
  /** Starts with its code: `PERMISSION_DENIED: …`, `NOT_FOUND: …`. */
  reason: string;
}

export type UploadOutcome =
  | {
      ok: true;
      sessionId: string;
      userId: string;
      /** Changes of changesets this upload integrated (not re-sent ones), refused ones excluded. */
      changes: number;
      serverVersion: number;
      refused: readonly RefusedWrite[];
    }
  | { ok: false; sessionId: string; userId: string; code: string };

export interface DownloadAck {
  sessionId: string;
  userId: string;
  /** The version the client acknowledged, and the latest one when it did. */
  version: number;
  latest: number;
}

export type { GroupCommitObserver };

export interface SyncObserver extends GroupCommitObserver {
  uploadStarted(): (outcome: UploadOutcome) => void;
  /** The store's integration of one upload (its share of a commit). */
  integrationStarted(): () => void;
  downloadAcknowledged(ack: DownloadAck): void;
  /**
   * A subscription's stream was first read; `subscriptionClosed` is told once when it ends.
   * (Two calls, not a span: an open subscription holds no function of the watchers'.)
   */
  subscriptionOpened(name: SubscriptionName): void;
  subscriptionClosed(name: SubscriptionName): void;
  sessionChanged(change: SessionChange): void;
}

const nothing = () => undefined;

export const NO_OBSERVER: SyncObserver = {
  uploadStarted: () => nothing,
  integrationStarted: () => nothing,
  groupCommitted: nothing,
  downloadAcknowledged: nothing,
  subscriptionOpened: nothing,
  subscriptionClosed: nothing,
  sessionChanged: nothing,
};

/**
 * Tells every observer everything, in order. One that throws is reported to `onError` and
 * does not stop the others, nor the work observed.
 */
export function combineObservers(
  observers: readonly SyncObserver[],
  onError: (error: unknown) => void,
): SyncObserver {
  const guard = (call: () => void) => {
    try {
      call();
    } catch (error) {
      onError(error);
    }
  };
  const all = <A extends unknown[]>(call: (o: SyncObserver, ...a: A) => void) => {
    return (...args: A) => observers.forEach((o) => guard(() => call(o, ...args)));
  };
  const spans = <A extends unknown[], E extends unknown[]>(
    start: (o: SyncObserver, ...a: A) => (...e: E) => void,
  ) => {
    return (...args: A) => {
      const ends: ((...e: E) => void)[] = [];
      observers.forEach((o) => guard(() => ends.push(start(o, ...args))));
      return (...e: E) => ends.forEach((end) => guard(() => end(...e)));
    };
  };
  return {
    uploadStarted: spans((o) => o.uploadStarted()),
    integrationStarted: spans((o) => o.integrationStarted()),
    groupCommitted: all((o, size: number) => o.groupCommitted(size)),
    downloadAcknowledged: all((o, ack: DownloadAck) => o.downloadAcknowledged(ack)),
    subscriptionOpened: all((o, name: SubscriptionName) => o.subscriptionOpened(name)),
    subscriptionClosed: all((o, name: SubscriptionName) => o.subscriptionClosed(name)),
    sessionChanged: all((o, change: SessionChange) => o.sessionChanged(change)),
  };
}

/** `end`, callable many times, effective once. */
export function once<A extends unknown[]>(end: (...args: A) => void): (...args: A) => void {
  let done = false;
  return (...args) => {
    if (done) return;
    done = true;
    end(...args);
  };
}

/**
 * The stream, counted as an open subscription from its first read until it ends (by
 * itself, by an error, or by `return()`). A stream never read is never counted. A class
 * with its methods on the prototype, not a generator around the stream: no suspended
 * frame, promise or closures per open subscription.
 */
class ObservedStream<T> {
  private opened = false;
  private ended = false;

  constructor(
    private readonly observer: SyncObserver,
    private readonly name: SubscriptionName,
    private readonly stream: AsyncGenerator<T>,
  ) {}

  next(): Promise<IteratorResult<T>> {
    if (this.ended) return Promise.resolve({ done: true, value: undefined });
    if (!this.opened) {
      this.opened = true;
      this.observer.subscriptionOpened(this.name);
    }
    return this.settled(this.stream.next());
  }

  async return(value?: unknown): Promise<IteratorResult<T>> {
    try {
      return await this.settled(this.stream.return(value));
    } finally {
      this.end();
    }
  }

  async throw(error?: unknown): Promise<IteratorResult<T>> {
    try {
      return await this.settled(this.stream.throw(error));
    } finally {
      this.end();
    }
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  // Not async: a waiting subscription holds a promise and its reaction, not a suspended frame.
  private settled(step: Promise<IteratorResult<T>>): Promise<IteratorResult<T>> {
    return step.then(
      (result) => {
        if (result.done) this.end();
        return result;
      },
      (error: unknown) => {
        this.end();
        throw error;
      },
    );
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.opened) this.observer.subscriptionClosed(this.name);
  }
}

export function observedStream<T>(
  observer: SyncObserver,
  name: SubscriptionName,
  stream: AsyncGenerator<T>,
): AsyncGenerator<T> {
  return new ObservedStream(observer, name, stream) as unknown as AsyncGenerator<T>;
}
