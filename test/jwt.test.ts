/**
 * Token verification (src/auth/jwt.ts): HS256 tokens under the gateway's secret, its key
 * imported once per secret, not at every verification.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SignJWT } from 'jose';
import { mintToken, verifyTokenAt, verifyingKey } from '../src/auth/jwt.js';

const A = 'a'.repeat(32);
const B = 'b'.repeat(32);

afterEach(() => vi.restoreAllMocks());

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('verifyTokenAt', () => {
  it('accepts a token under its own secret only, whichever secret was used last', async () => {
    const [alice, bob] = await Promise.all([mintToken(A, 'alice'), mintToken(B, 'bob', ['admin'])]);
    for (let round = 0; round < 2; round++) {
      expect((await verifyTokenAt(A, alice)).viewer).toEqual({ id: 'alice', roles: [] });
      expect((await verifyTokenAt(B, bob)).viewer).toEqual({ id: 'bob', roles: ['admin'] });
      await expect(verifyTokenAt(B, alice)).rejects.toMatchObject({
        code: 'UNAUTHENTICATED',
        message: expect.stringMatching(/^invalid token: signature verification failed/),
      });
      await expect(verifyTokenAt(A, `${alice}x`)).rejects.toMatchObject({
        code: 'UNAUTHENTICATED',
      });
    }
  });

  it('imports the key of a secret once, however many tokens it verifies', async () => {
    const secret = 'c'.repeat(32);
    const token = await mintToken(secret, 'carol');
    const imports = vi.spyOn(crypto.subtle, 'importKey');
    await Promise.all(Array.from({ length: 20 }, () => verifyTokenAt(secret, token)));
    await verifyTokenAt(secret, token);
    expect(imports).toHaveBeenCalledTimes(1);
    expect(await verifyingKey(secret)).toBe(await verifyingKey(secret));
  });

  it('keeps a bounded number of keys: an old secret is imported again, and still verifies', async () => {
    const secrets = Array.from({ length: 12 }, (_, i) => String(i).padStart(32, 'k'));
    const tokens = await Promise.all(secrets.map((s) => mintToken(s, 'dave')));
    for (const [i, s] of secrets.entries()) await verifyTokenAt(s, tokens[i]!);
    const imports = vi.spyOn(crypto.subtle, 'importKey');
    expect((await verifyTokenAt(secrets[11]!, tokens[11]!)).viewer.id).toBe('dave');
    expect(imports).toHaveBeenCalledTimes(0); // a recent secret's key is kept
    expect((await verifyTokenAt(secrets[0]!, tokens[0]!)).viewer.id).toBe('dave');
    expect(imports).toHaveBeenCalledTimes(1); // the oldest was let go, and is imported again
  });

  it('refuses a token of another algorithm, or none, under the same secret', async () => {
    const bytes = new TextEncoder().encode(A);
    const hs512 = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS512' })
      .setSubject('mallory')
      .sign(bytes);
    const none = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'mallory' })}.`;
    for (const token of [hs512, none]) {
      await expect(verifyTokenAt(A, token)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    }
  });
});
