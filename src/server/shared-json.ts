/**
 * The payloads of outgoing graphql-ws messages serialized once per object: a result that
 * many subscribers share (shared-execution.ts) becomes JSON once, and each socket's message
 * is its own envelope (`id`, `type`) around those same bytes.
 *
 * graphql-ws stringifies a message and hands the string to the socket's `send` in one
 * synchronous step. The replacer swaps the message's payload for a marker and keeps the
 * payload's JSON; `encoded`, first thing in `send`, puts that JSON where the marker is.
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

/** A payload's JSON, and its UTF-8 bytes once a second message carries it. */
interface Shared {
  json: string;
  uses: number;
  bytes: Buffer | null;
}

const CLOSE = Buffer.from('}');

export class SharedJson {
  private readonly cache = new WeakMap<object, Shared>();
  private pending: Shared | null = null;

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

  /**
   * The message `data` with the payload's JSON in place of the marker; for a payload sent
   * more than once, as the UTF-8 bytes a socket sends: its bytes are encoded once and
   * copied into each message (no string of the whole message, and no encoding of it, per
   * socket).
   */
  encoded(data: string): string | Buffer {
    const shared = this.take(data);
    if (!shared) return data;
    const head = data.slice(0, -MARK_END.length);
    if (shared.uses < 2) return `${head}${shared.json}}`;
    shared.bytes ??= Buffer.from(shared.json);
    return Buffer.concat([Buffer.from(head), shared.bytes, CLOSE]);
  }

  /** The payload the last stringify set aside, if `data` is that message. */
  private take(data: string): Shared | null {
    const shared = this.pending;
    this.pending = null;
    return shared !== null && data.endsWith(MARK_END) ? shared : null;
  }

  private jsonOf(value: object, type: string): Shared {
    let shared = this.cache.get(value);
    if (shared === undefined) {
      const json = JSON.stringify(type === 'next' ? nextPayload(value as WithErrors) : value);
      shared = { json, uses: 0, bytes: null };
      this.cache.set(value, shared);
    }
    shared.uses += 1;
    return shared;
  }
}
