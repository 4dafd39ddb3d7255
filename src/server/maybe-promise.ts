/** Whether a value that may be a promise (a MaybePromise of graphql-js or envelop) is one. */
export const isPromise = <T>(value: T | Promise<T>): value is Promise<T> =>
  typeof (value as { then?: unknown } | null)?.then === 'function';
