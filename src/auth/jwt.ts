/** HS256 JWTs: `sub` is the user id, `roles: ["admin"]` makes an admin. */
import { jwtVerify, SignJWT } from 'jose';
import { SyncError } from '../errors.js';
import type { Viewer } from '../sync/model.js';

const encode = (secret: string) => new TextEncoder().encode(secret);

/** The most secrets whose keys are kept (a gateway has one; tests make many). */
const KEPT_KEYS = 8;
const keys = new Map<string, Promise<CryptoKey>>();

/**
 * The secret's HMAC key for verifying, imported once: given the secret's bytes, jose would
 * import a key on every call (a WebCrypto job of its own, for every socket and request).
 */
export function verifyingKey(secret: string): Promise<CryptoKey> {
  const kept = keys.get(secret);
  if (kept) return kept;
  const algorithm = { name: 'HMAC', hash: 'SHA-256' };
  const key = crypto.subtle.importKey('raw', encode(secret), algorithm, false, ['verify']);
  if (keys.size >= KEPT_KEYS) keys.delete(keys.keys().next().value!);
  keys.set(secret, key);
  // A key that failed to import is not kept: the next verification tries again.
  key.catch(() => keys.get(secret) === key && keys.delete(secret));
  return key;
}

/** A verified token: its viewer, and when it stops being valid (null: no `exp` claim). */
export interface VerifiedToken {
  viewer: Viewer;
  expiresAt: Date | null;
}

/**
 * Verifies a token at `now` (the gateway's clock; a token is expired from its `exp` second
 * on); throws UNAUTHENTICATED naming the problem.
 */
export async function verifyTokenAt(
  secret: string,
  token: string,
  now: Date = new Date(),
): Promise<VerifiedToken> {
  try {
    const { payload } = await jwtVerify(token, await verifyingKey(secret), {
      algorithms: ['HS256'],
      currentDate: now,
    });
    if (typeof payload.sub !== 'string' || payload.sub === '') throw new Error('no sub claim');
    if (payload.sub.startsWith('__')) throw new Error('user ids starting with "__" are reserved');
    const roles = Array.isArray(payload.roles)
      ? payload.roles.filter((r): r is string => typeof r === 'string')
      : [];
    const expiresAt = typeof payload.exp === 'number' ? new Date(payload.exp * 1000) : null;
    return { viewer: { id: payload.sub, roles }, expiresAt };
  } catch (error) {
    throw new SyncError('UNAUTHENTICATED', `invalid token: ${(error as Error).message}`);
  }
}

/**
 * A token for `sub`. `expiresIn` is a jose time span ('30d', '2s') from now, or a Date
 * (the `exp` claim is in whole seconds: a Date is rounded down to its second).
 */
export async function mintToken(
  secret: string,
  sub: string,
  roles: string[] = [],
  expiresIn: string | Date = '30d',
): Promise<string> {
  const exp = expiresIn instanceof Date ? Math.floor(expiresIn.getTime() / 1000) : expiresIn;
  return new SignJWT({ roles })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime(exp)
    .sign(encode(secret));
}

/** Reads a bearer token from an `Authorization` header value. */
export function bearer(header: string | null | undefined): string | null {
  const match = /^Bearer\s+(.+)$/i.exec(header ?? '');
  return match ? match[1]!.trim() : null;
}
