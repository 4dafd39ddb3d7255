/**
 * A stream's waiter (src/sync/change-feed.ts): registered once for the stream's life, armed by
 * each wait; woken by a new version, a poke or its signal; reached by `pokeAll` while busy;
 * gone when the stream ends.
 */
import { describe, expect, it } from 'vitest';
import { ChangeFeed } from '../src/sync/change-feed.js';

const settled = async <T>(p: Promise<T>): Promise<{ value: T } | 'pending'> =>
  Promise.race([
    p.then((value) => ({ value })),
    new Promise<'pending'>((r) => setImmediate(() => r('pending'))),
  ]);

describe('stream waiter', () => {
  it('waits again and again through one registration, woken by versions and pokes', async () => {
    const feed = new ChangeFeed();
    const controller = new AbortController();
    const waiter = feed.waiter('s1', controller.signal);
    expect(feed.sessionsHeld).toBe(1);

    const first = waiter.wait(0, 0, null, Infinity);
    expect(await settled(first)).toBe('pending');
    feed.advance(1);
    expect(await settled(first)).toEqual({ value: null });

    const second = waiter.wait(1, 0, null, Infinity);
    expect(await settled(second)).toBe('pending');
    feed.poke('s1');
    expect(await settled(second)).toEqual({ value: null });
    // A wait that saw an older poke count is over before it starts.
    expect(await settled(waiter.wait(1, 0, null, Infinity))).toEqual({ value: null });
    expect(feed.sessionsHeld).toBe(1);
  });

  it('is reached by pokeAll while busy, so its next wait does not miss the poke', async () => {
    const feed = new ChangeFeed();
    const waiter = feed.waiter('s1', new AbortController().signal);
    const pokes = feed.pokeCount('s1');
    feed.pokeAll(); // the stream is busy (not waiting): as after a missed signal
    expect(feed.pokeCount('s1')).toBe(pokes + 1);
    expect(await settled(waiter.wait(0, pokes, null, Infinity))).toEqual({ value: null });
  });

  it('ends when its signal aborts or the stream ends, once, and waits one wait at a time', async () => {
    const feed = new ChangeFeed();
    const controller = new AbortController();
    const waiter = feed.waiter('s1', controller.signal);
    const waiting = waiter.wait(0, 0, null, Infinity);
    expect(() => waiter.wait(0, 0, null, Infinity)).toThrow(/one wait at a time/);
    controller.abort();
    expect(await settled(waiting)).toEqual({ value: null });
    expect(feed.sessionsHeld).toBe(0);
    waiter.end();
    expect(feed.sessionsHeld).toBe(0);

    const other = feed.waiter('s2', new AbortController().signal);
    expect(feed.sessionsHeld).toBe(1);
    other.end();
    other.end();
    expect(feed.sessionsHeld).toBe(0);
    // A waiter whose signal has already aborted is never registered.
    feed.waiter('s3', controller.signal);
    expect(feed.sessionsHeld).toBe(0);
  });
});
