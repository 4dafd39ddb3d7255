/**
 * The payloads of outgoing graphql-ws messages serialized once per object: a result that
 * many subscribers share (shared-execution.ts) becomes JSON once, and each socket's message
 * is its own envelope (`id`, `type`) around those same bytes.
 *
 * graphql-ws stringifies a message and hands the string to the socket's `send` in one
 * synchronous step. The replacer swaps the message's payload for a marker and keeps the
 * payload's JSON; `inline`, first thing in `send`, puts that JSON where the marker is.
 * The bytes are those graphql-ws would send: a `next` payload is the result with its
 * errors last, as graphql-ws writes it.
 */

/** Cannot be a payload: graphql-ws payloads are objects or arrays, never strings. */
const MARK = '\u0000shared-payload';
const MARK_END = `${JSON.stringify(MARK)}}`;

type WithErrors = { errors?: readonly { toJSON?: () => unknown }[] };

/** A `next` payload as graphql-ws writes it: the result, then its errors if any. */
function nextPayload(result: WithErrors): unknown {
  const { errors, ...rest } = result;
  return errors ? { ...rest, errors: errors.map((e) => e.toJSON?.() ?? e) } : rest;
}

export class SharedJson {
  private readonly cache = new WeakMap<object, string>();
  private pending: string | null = null;

  /** graphql-ws's `jsonMessageReplacer` (JSON.stringify calls it with the holder as `this`). */
  readonly replacer = (() => {
    const replace = this.replace.bind(this);
    return function (this: unknown, key: string, value: unknown): unknown {
      return replace(this, key, value);
    };
  })();

  private replace(holder: unknown, key: string, value: unknown): unknown {
    if (key !== 'payload' || typeof value !== 'object' || value === null) return value;
    const message = holder as { type?: unknown } | null;
    if (typeof message?.type !== 'string') return value;
    this.pending = this.jsonOf(value, message.type);
    return MARK;
  }

  /** The message `data` with the payload's JSON in place of the marker. */
  inline(data: string): string {
    const json = this.pending;
    this.pending = null;
    if (json === null || !data.endsWith(MARK_END)) return data;
    return `${data.slice(0, -MARK_END.length)}${json}}`;
  }

  private jsonOf(value: object, type: string): string {
    let json = this.cache.get(value);
    if (json === undefined) {
      json = JSON.stringify(type === 'next' ? nextPayload(value as WithErrors) : value);
      this.cache.set(value, json);
    }
    return json;
  }
}
