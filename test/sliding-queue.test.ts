/** The one bounded queue behind the gateway's streams, and the topics built on it. */
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
    // A started stream delivers what it holds, then ends once its Repeater has stopped.
    expect((await stream.next()).value).toBe(2);
    expect(await stream.next()).toEqual({ done: true, value: undefined });
    expect(topics.count('t')).toBe(0);
    expect(topics.topics()).toEqual([]);
  });
});
