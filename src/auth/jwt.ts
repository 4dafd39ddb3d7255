/** HS256 JWTs: `sub` is the user id, `roles: ["admin"]` makes an admin. */
import { jwtVerify, SignJWT } from 'jose';
import { SyncError } from '../errors.js';
import type { Viewer } from '../sync/model.js';

const encode = (secret: string) => new TextEncoder().encode(secret);

export async function verifyToken(secret: string, token: string): Promise<Viewer> {
  try {
    const { payload } = await jwtVerify(token, encode(secret), { algorithms: ['HS256'] });
    if (typeof payload.sub !== 'string' || payload.sub === '') throw new Error('no sub claim');
    if (payload.sub.startsWith('__')) throw new Error('user ids starting with "__" are reserved');
    const roles = Array.isArray(payload.roles)
      ? payload.roles.filter((r): r is string => typeof r === 'string')
      : [];
    return { id: payload.sub, roles };
  } catch (error) {
    throw new SyncError('UNAUTHENTICATED', `invalid token: ${(error as Error).message}`);
  }
}

export async function mintToken(
  secret: string,
  sub: string,
  roles: string[] = [],
  expiresIn = '30d',
): Promise<string> {
  return new SignJWT({ roles })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(encode(secret));
}

/** Reads a bearer token from an `Authorization` header value. */
export function bearer(header: string | null | undefined): string | null {
  const match = /^Bearer\s+(.+)$/i.exec(header ?? '');
  return match ? match[1]!.trim() : null;
}
