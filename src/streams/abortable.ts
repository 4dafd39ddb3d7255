/**
 * An async iterator whose `return()` aborts the producer at once, even while it is
 * waiting: a plain async generator only sees `return()` at its next `yield`, so a
 * stream waiting for new data would linger after its subscriber left.
 */
export function abortable<T>(
  start: (signal: AbortSignal) => Promise<AsyncGenerator<T>>,
): AsyncIterableIterator<T> {
  const controller = new AbortController();
  const inner = start(controller.signal);
  const finish = async (): Promise<IteratorResult<T>> => {
    controller.abort();
    await (await inner).return(undefined);
    return { done: true, value: undefined };
  };
  return {
    next: async () =>
      controller.signal.aborted ? { done: true, value: undefined } : (await inner).next(),
    return: finish,
    throw: async (error) => {
      await finish();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
