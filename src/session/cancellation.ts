/**
 * Cancellation tokens: made by `createCancellationToken`, fired by `cancel`, which fails
 * every wait holding the token with CANCELLED. A token belongs to the user who made it;
 * each user keeps at most `maxPerUser`, the oldest idle ones forgotten first.
 */
import { randomUUID } from 'node:crypto';
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

export class CancellationTokens {
  private readonly tokens = new Map<string, Token>();

  constructor(private readonly maxPerUser = 1000) {}

  create(owner: string): TokenView {
    const token: Token = { id: `ct_${randomUUID()}`, owner, cancelled: false, waiters: new Set() };
    this.tokens.set(token.id, token);
    this.evictIdle(owner);
    return { id: token.id, cancelled: false };
  }

  cancel(owner: string, id: string): TokenView {
    const token = this.get(owner, id, 'cancellationToken');
    token.cancelled = true;
    const error = new SyncError('CANCELLED', `cancelled through token ${id}`);
    for (const fail of token.waiters) fail(error);
    token.waiters.clear();
    return { id, cancelled: true };
  }

  /** Registers a wait on the token; returns the function that removes it. */
  hold(owner: string, id: string, fail: (error: SyncError) => void): () => void {
    const token = this.get(owner, id, 'cancellationToken');
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

  private get(owner: string, id: string, field: string): Token {
    const token = this.tokens.get(id);
    if (!token || token.owner !== owner) {
      throw new SyncError('NOT_FOUND', `${field}: no cancellation token "${id}" is yours`, field);
    }
    return token;
  }

  private evictIdle(owner: string): void {
    const mine = [...this.tokens.values()].filter((t) => t.owner === owner);
    for (const t of mine.slice(0, Math.max(0, mine.length - this.maxPerUser))) {
      if (t.waiters.size === 0) this.tokens.delete(t.id);
    }
  }
}
