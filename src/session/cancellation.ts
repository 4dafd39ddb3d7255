/**
 * Cancellation tokens: made by `createCancellationToken`, fired by `cancel`, which fails
 * every wait holding the token with CANCELLED, on whichever gateway it waits. A token id
 * carries a signature over its owner, so any gateway of the deployment can tell whose it
 * is without shared storage. Each user keeps at most `maxPerUser` tokens here, the oldest
 * idle ones forgotten first.
 */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { SyncError } from '../errors.js';

interface Token {
  id: string;
  owner: string;
  cancelled: boolean;
  waiters: Set<(error: SyncError) => void>;
}

export interface TokenView {
  id: string;
  cancelled: boolean;
}

const MAX_REMOTE_CANCELLED = 10_000;

export class CancellationTokens {
  private readonly tokens = new Map<string, Token>();
  private readonly byOwner = new Map<string, Set<string>>();
  /** Tokens another gateway cancelled, not (yet) known here. */
  private readonly cancelledElsewhere = new Set<string>();
  /** Called when a token is cancelled here, to tell the other gateways. */
  onCancel: (id: string) => void = () => undefined;

  constructor(
    private readonly secret: string,
    private readonly maxPerUser = 1000,
  ) {}

  create(owner: string): TokenView {
    const nonce = randomUUID();
    const token = this.remember(owner, `ct_${nonce}_${this.sign(owner, nonce)}`);
    return { id: token.id, cancelled: false };
  }

  cancel(owner: string, id: string): TokenView {
    this.fire(this.get(owner, id));
    this.onCancel(id);
    return { id, cancelled: true };
  }

  /** Another gateway cancelled the token. */
  cancelledRemotely(id: string): void {
    const token = this.tokens.get(id);
    if (token) return this.fire(token);
    this.cancelledElsewhere.add(id);
    if (this.cancelledElsewhere.size > MAX_REMOTE_CANCELLED) {
      this.cancelledElsewhere.delete(this.cancelledElsewhere.values().next().value!);
    }
  }

  /** Registers a wait on the token; returns the function that removes it. */
  hold(owner: string, id: string, fail: (error: SyncError) => void): () => void {
    const token = this.get(owner, id);
    if (token.cancelled) {
      fail(new SyncError('CANCELLED', `token ${id} was already cancelled`));
      return () => undefined;
    }
    token.waiters.add(fail);
    return () => token.waiters.delete(fail);
  }

  /** Waits registered on a token (to prove that nothing leaks). */
  waitersOf(id: string): number {
    return this.tokens.get(id)?.waiters.size ?? 0;
  }

  private fire(token: Token): void {
    token.cancelled = true;
    const error = new SyncError('CANCELLED', `cancelled through token ${token.id}`);
    for (const fail of token.waiters) fail(error);
    token.waiters.clear();
  }

  private get(owner: string, id: string): Token {
    const token = this.tokens.get(id);
    if (token && token.owner === owner) return token;
    if (!token && this.signedFor(owner, id)) return this.remember(owner, id);
    throw new SyncError(
      'NOT_FOUND',
      `cancellationToken: no cancellation token "${id}" is yours`,
      'cancellationToken',
    );
  }

  private remember(owner: string, id: string): Token {
    const token: Token = {
      id,
      owner,
      cancelled: this.cancelledElsewhere.delete(id),
      waiters: new Set(),
    };
    this.tokens.set(id, token);
    const mine = this.byOwner.get(owner) ?? new Set<string>();
    this.byOwner.set(owner, mine.add(id));
    this.evictIdle(mine);
    return token;
  }

  private sign(owner: string, nonce: string): string {
    return createHmac('sha256', this.secret)
      .update(`${owner}\u0000${nonce}`)
      .digest('base64url')
      .slice(0, 22);
  }

  private signedFor(owner: string, id: string): boolean {
    const match = /^ct_([0-9a-f-]{36})_([A-Za-z0-9_-]{22})$/.exec(id);
    if (!match) return false;
    const expected = Buffer.from(this.sign(owner, match[1]!));
    const given = Buffer.from(match[2]!);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }

  private evictIdle(mine: Set<string>): void {
    for (const id of mine) {
      if (mine.size <= this.maxPerUser) return;
      if (this.tokens.get(id)?.waiters.size) continue;
      mine.delete(id);
      this.tokens.delete(id);
    }
  }
}
