/** The one bounded queue behind the gateway's streams, and the topics built on it. */
import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { slidingQueue } from '../src/streams/sliding-queue.js';
import { Topics } from '../src/streams/topics.js';

async function take<T>(stream: AsyncIterator<T>, n: number): Promise<T[]> {
  const out: T[] = [];
  while (out.length < n) {
    const r = await stream.next();
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}

describe('slidingQueue', () => {
  it('keeps what was pushed before the first pull, dropping the oldest past capacity', async () => {
    const q = slidingQueue<number>(3);
    for (let i = 1; i <= 5; i++) q.push(i);
    expect(await take(q.stream, 3)).toEqual([3, 4, 5]);
    q.push(6);
    expect(await take(q.stream, 1)).toEqual([6]);
  });

  it('ends after the values already queued, and runs onStop once', async () => {
    let stops = 0;
    const q = slidingQueue<number>(10, () => stops++);
    q.push(1);
    void q.stream.next(); // started
    q.push(2);
    q.stop();
    q.stop();
    q.push(3); // ignored
    expect(await take(q.stream, 5)).toEqual([2]);
    expect(stops).toBe(1);
  });

  it('runs onStop when stopped before anyone pulled, and when the consumer returns', async () => {
    let stops = 0;
    slidingQueue<number>(1, () => stops++).stop();
    const q = slidingQueue<number>(1, () => stops++);
    void q.stream.next();
    await q.stream.return();
    expect(stops).toBe(2);
  });
});

describe('slidingQueue, pinned down', () => {
  it('hands a push to a waiting next() at once, and queues the rest in order', async () => {
    const q = slidingQueue<number>(2);
    const waiting = q.stream.next();
    q.push(1);
    q.push(2);
    q.push(3);
    q.push(4);
    expect(await waiting).toEqual({ done: false, value: 1 });
    expect(await take(q.stream, 2)).toEqual([3, 4]);
  });

  it('serves next() calls made before any value in the order they were made', async () => {
    const q = slidingQueue<number>(4);
    const [a, b, c] = [q.stream.next(), q.stream.next(), q.stream.next()];
    q.push(1);
    q.push(2);
    q.stop();
    expect(await Promise.all([a, b, c])).toEqual([
      { done: false, value: 1 },
      { done: false, value: 2 },
      { done: true, value: undefined },
    ]);
  });

  it('runs onStop at stop(), before the values still queued are read', async () => {
    let stops = 0;
    const q = slidingQueue<number>(3, () => stops++);
    q.push(1);
    q.push(2);
    q.stop();
    expect(stops).toBe(1);
    q.push(3);
    expect(await take(q.stream, 5)).toEqual([1, 2]);
    expect(await q.stream.next()).toEqual({ done: true, value: undefined });
    expect(stops).toBe(1);
  });

  it('ends a waiting next() on stop(), after onStop has run', async () => {
    const order: string[] = [];
    const q = slidingQueue<number>(1, () => order.push('onStop'));
    const waiting = q.stream.next().then((r) => order.push(`next done=${r.done}`));
    q.stop();
    await waiting;
    expect(order).toEqual(['onStop', 'next done=true']);
  });

  it('return() ends a waiting next(), drops what is queued and ignores later pushes', async () => {
    let stops = 0;
    const q = slidingQueue<number>(3, () => stops++);
    const waiting = q.stream.next();
    const returned = q.stream.return();
    expect(await waiting).toEqual({ done: true, value: undefined });
    expect(await returned).toEqual({ done: true, value: undefined });
    expect(stops).toBe(1);
    const r = slidingQueue<number>(3, () => stops++);
    r.push(1);
    await r.stream.return();
    r.push(2);
    r.stop();
    expect(await r.stream.next()).toEqual({ done: true, value: undefined });
    expect(stops).toBe(2);
  });

  it('runs onStop when returned before anyone pulled (Repeater did not)', async () => {
    let stops = 0;
    const q = slidingQueue<number>(1, () => stops++);
    await q.stream.return();
    expect(stops).toBe(1);
  });

  it('throw() rejects with the error and ends the stream, running onStop once', async () => {
    let stops = 0;
    const q = slidingQueue<number>(3, () => stops++);
    q.push(1);
    const error = new Error('consumer failed');
    await expect(q.stream.throw(error)).rejects.toBe(error);
    await q.stream.return();
    expect(await q.stream.next()).toEqual({ done: true, value: undefined });
    expect(stops).toBe(1);
  });

  it('is an async iterable, and its stop works unbound, as an abort listener', async () => {
    const q = slidingQueue<number>(3);
    const controller = new AbortController();
    controller.signal.addEventListener('abort', q.stop, { once: true });
    q.push(1);
    q.push(2);
    controller.abort();
    const seen: number[] = [];
    for await (const v of q.stream) seen.push(v);
    expect(seen).toEqual([1, 2]);
  });

  it('refuses a capacity below one', () => {
    expect(() => slidingQueue(0)).toThrow(RangeError);
  });
});

describe('Topics', () => {
  it('delivers from the call on, even before the first pull, and leaves nothing behind', async () => {
    const topics = new Topics<string>(2);
    const controller = new AbortController();
    topics.publish('t', 'before');
    const stream = topics.subscribe('t', controller.signal);
    topics.publish('t', 'a');
    topics.publish('other', 'x');
    expect(await take(stream, 1)).toEqual(['a']);
    expect(topics.count('t')).toBe(1);
    controller.abort();
    expect((await stream.next()).done).toBe(true);
    expect(topics.count('t')).toBe(0);
    expect(topics.topics()).toEqual([]);
  });

  it('removes a subscriber whose signal aborts before it was ever read', () => {
    const topics = new Topics<string>();
    const controller = new AbortController();
    topics.subscribe('t', controller.signal);
    controller.abort();
    expect(topics.count('t')).toBe(0);
  });

  it('removes a subscriber and its abort listener when the consumer returns', async () => {
    const topics = new Topics<string>();
    const controller = new AbortController();
    const read = topics.subscribe('t', controller.signal);
    const unread = topics.subscribe('t', controller.signal);
    topics.publish('t', 'a');
    expect(await read.next()).toEqual({ done: false, value: 'a' });
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(2);
    await read.return(undefined);
    await unread.return(undefined);
    expect(topics.count('t')).toBe(0);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('calls a listener with each value at once, beside streams, until it is stopped', async () => {
    const topics = new Topics<number>();
    const heard: number[] = [];
    const stop = topics.listen('t', (v) => heard.push(v));
    const controller = new AbortController();
    const stream = topics.subscribe('t', controller.signal);
    topics.publish('t', 1);
    topics.publish('other', 9);
    expect(heard).toEqual([1]);
    expect(topics.count('t')).toBe(2);
    stop();
    topics.publish('t', 2);
    expect(heard).toEqual([1]);
    expect((await stream.next()).value).toBe(1);
    controller.abort();
    // A started stream delivers what it holds, then ends.
    expect((await stream.next()).value).toBe(2);
    expect(await stream.next()).toEqual({ done: true, value: undefined });
    expect(topics.count('t')).toBe(0);
    expect(topics.topics()).toEqual([]);
  });
});
