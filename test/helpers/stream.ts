/** A graphql-ws subscription as a queue of results that a test awaits one at a time. */
import type { Client } from 'graphql-ws';
import type { GqlResult } from './gateway.js';

export interface Stream<T> {
  next(timeoutMs?: number): Promise<GqlResult<T>>;
  /** Results that arrived and were not taken yet. */
  readonly pending: number;
  /** Resolves when the server completes the subscription. */
  readonly completed: Promise<void>;
  stop(): void;
}

export function stream<T = Record<string, unknown>>(
  client: Client,
  query: string,
  variables: Record<string, unknown> = {},
): Stream<T> {
  const queue: GqlResult<T>[] = [];
  let wake: (() => void) | null = null;
  let complete: () => void = () => undefined;
  const completed = new Promise<void>((resolve) => (complete = resolve));
  const stop = client.subscribe<T>(
    { query, variables },
    {
      next: (value) => {
        queue.push(value as GqlResult<T>);
        wake?.();
      },
      error: (error) => {
        queue.push({ errors: [{ message: String((error as Error).message ?? error) }] });
        wake?.();
      },
      complete: () => complete(),
    },
  );
  return {
    get pending() {
      return queue.length;
    },
    stop,
    completed,
    async next(timeoutMs = 10_000) {
      // A safety net so that a bug fails the test instead of hanging it; not a timing assertion.
      const deadline = setTimeout(() => wake?.(), timeoutMs);
      try {
        while (queue.length === 0) {
          const before = Date.now();
          await new Promise<void>((r) => (wake = r));
          if (queue.length === 0 && Date.now() - before >= timeoutMs - 5) {
            throw new Error(`no result within ${timeoutMs} ms for ${query.slice(0, 60)}`);
          }
        }
        return queue.shift()!;
      } finally {
        clearTimeout(deadline);
        wake = null;
      }
    },
  };
}
