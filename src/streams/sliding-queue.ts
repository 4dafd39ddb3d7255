/**
 * The one bounded async queue behind the gateway's streams, on Repeater (what graphql-yoga's
 * own pub/sub is built on). Values pushed before the consumer's first pull are kept too, so
 * a stream made now misses nothing published from now on; a consumer that falls behind loses
 * the oldest values (Repeater's SlidingBuffer) and never grows memory past `capacity`.
 */
import { Repeater, SlidingBuffer } from '@repeaterjs/repeater';

export interface SlidingQueue<T> {
  push(value: T): void;
  /** Ends the stream after the values already queued; `onStop` runs once. */
  stop(): void;
  readonly stream: Repeater<T, void>;
}

export function slidingQueue<T>(capacity: number, onStop: () => void = () => {}): SlidingQueue<T> {
  const buffer = new SlidingBuffer(capacity);
  let stopped = false;
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    onStop();
  };
  // Until the consumer's first pull starts the Repeater, pushes go straight to its buffer.
  let push = (value: T): unknown => buffer.add(value);
  let stopStarted: (() => void) | null = null;
  const stream = new Repeater<T, void>(async (pushNow, stopNow) => {
    push = pushNow;
    stopStarted = () => stopNow();
    if (stopped) stopNow();
    await stopNow;
    end();
  }, buffer);
  const stop = () => {
    stopped = true;
    if (stopStarted) stopStarted();
    else end();
  };
  return { push: (value) => void (stopped || push(value)), stop, stream };
}
