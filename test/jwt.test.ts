/**
 * Token verification (src/auth/jwt.ts): HS256 tokens under the gateway's secret, its key
 * imported once per secret, not at every verification.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mintToken, verifyTokenAt, verifyingKey } from '../src/auth/jwt.js';

const A = 'a'.repeat(32);
const B = 'b'.repeat(32);

afterEach(() => vi.restoreAllMocks());

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
    expect((await verifyTokenAt(secrets[0]!, tokens[0]!)).viewer.id).toBe('dave');
    expect(imports).toHaveBeenCalledTimes(1);
  });
});
