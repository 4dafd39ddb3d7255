/**
 * An async iterator whose `return()` aborts the producer at once, even while it is
 * waiting: a plain async generator only sees `return()` at its next `yield`, so a
 * stream waiting for new data would linger after its subscriber left. A class with its
 * methods on the prototype: no closures per open stream.
 */
import { STOPPED } from './stopped.js';

const pull = <T>(stream: AsyncGenerator<T>) => stream.next();

class Abortable<T> implements AsyncIterableIterator<T> {
  private readonly inner: Promise<AsyncGenerator<T>>;
  /** The stream, once started: read directly, without a step through `inner`. */
  private started: AsyncGenerator<T> | null = null;

  constructor(
    start: (signal: AbortSignal) => Promise<AsyncGenerator<T>>,
    private readonly controller: AbortController,
  ) {
    this.inner = start(this.controller.signal);
    // A start that fails is reported by next(); one never read must not go unhandled.
    this.inner.then(
      (stream) => (this.started = stream),
      () => undefined,
    );
  }

  // Not async: a waiting subscription holds a promise and a reaction, not a suspended frame.
  next(): Promise<IteratorResult<T>> {
    if (this.controller.signal.aborted) return Promise.resolve({ done: true, value: undefined });
    if (this.started === null) return this.inner.then(pull);
    try {
      return this.started.next();
    } catch (error) {
      return Promise.reject(error); // as the step through `inner` would
    }
  }

  async return(): Promise<IteratorResult<T>> {
    this.controller.abort(STOPPED);
    const inner = await this.inner.catch(() => null);
    await inner?.return(undefined);
    return { done: true, value: undefined };
  }

  async throw(error?: unknown): Promise<IteratorResult<T>> {
    await this.return();
    throw error;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

/**
 * The stream `start` makes, ended at once by `return()`. `controller`: the operation's own,
 * when the stream is all the operation does (a socket's subscription; its abort ends the
 * operation anyway), so that it needs no controller of its own; none: one is made.
 */
export function abortable<T>(
  start: (signal: AbortSignal) => Promise<AsyncGenerator<T>>,
  controller: AbortController | null = null,
): AsyncIterableIterator<T> {
  return new Abortable(start, controller ?? new AbortController());
}
