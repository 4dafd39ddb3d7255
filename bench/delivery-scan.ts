/**
 * Reads the fan-out documents out of a `changes` event's bytes without parsing the JSON:
 * each document carries `"n": <upload number>` and then `"sentAt": <monotonic ms>`.
 */
const SENT_AT = Buffer.from('"sentAt":');
const N = Buffer.from('"n":');

/** The number written at `at` (digits, sign, point, exponent). */
function numberAt(data: Buffer, at: number): number {
  let end = at;
  while (end < data.length) {
    const c = data[end]!;
    const numeric = (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x2d || c === 0x2b;
    if (!numeric && c !== 0x65 && c !== 0x45) break;
    end++;
  }
  return Number(data.toString('latin1', at, end));
}

/** The number after the first `"key":` of the event; null when absent or not a number. */
export function numberAfter(data: Buffer, key: Buffer): number | null {
  const at = data.indexOf(key);
  if (at < 0) return null;
  const c = data[at + key.length];
  if (c === undefined || !((c >= 0x30 && c <= 0x39) || c === 0x2d)) return null; // e.g. null
  return numberAt(data, at + key.length);
}

/** Calls `each(n, sentAt)` for every document of the event. */
export function scanDeliveries(data: Buffer, each: (n: number, sentAt: number) => void): void {
  let at = data.indexOf(SENT_AT);
  while (at >= 0) {
    const nAt = data.lastIndexOf(N, at);
    if (nAt >= 0) each(numberAt(data, nAt + N.length), numberAt(data, at + SENT_AT.length));
    at = data.indexOf(SENT_AT, at + SENT_AT.length);
  }
}
