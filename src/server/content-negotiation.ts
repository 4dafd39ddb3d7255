/** Accept-Encoding and If-None-Match, for the pages the gateway serves (GraphiQL, /admin). */

/**
 * The weight of each coding in an Accept-Encoding header (RFC 9110, 12.5.3), by lower-case
 * name (`x-gzip` is gzip); no `q` is 1, an unreadable one 0.
 */
export function codingWeights(acceptEncoding: string | null): Map<string, number> {
  const weights = new Map<string, number>();
  for (const part of (acceptEncoding ?? '').split(',')) {
    const [name = '', ...params] = part.split(';');
    const coding = name.trim().toLowerCase();
    if (!coding) continue;
    let weight = 1;
    for (const param of params) {
      const q = /^\s*q\s*=\s*([0-9.]+)\s*$/i.exec(param);
      if (q) weight = Number(q[1]);
    }
    weights.set(coding === 'x-gzip' ? 'gzip' : coding, Number.isFinite(weight) ? weight : 0);
  }
  return weights;
}

/** Whether an If-None-Match header names `etag` (weak comparison, as RFC 9110 asks). */
export function matchesETag(ifNoneMatch: string | null | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, '');
  return ifNoneMatch.split(',').some((tag) => tag.trim() === '*' || opaque(tag) === etag);
}
