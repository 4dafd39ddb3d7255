/** The per-socket gate of ws.ts on its own: slots, the bounded queue, its order and its bytes. */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import { SocketOperations } from '../src/server/socket-operations.js';

const limits = { running: 2, waiting: 3, waitingBytes: 100, waitMs: 1000 };

/** Admission order: ids pushed as their promises resolve. */
function admitted(gate: SocketOperations, started: string[], id: string, bytes = 10) {
  const payload = { id };
  const turn = gate.enter(id, payload, bytes);
  if (turn === false) return { payload, refused: true };
  void turn.then((admission) => started.push(admission === 'started' ? id : `${admission}:${id}`));
  return { payload, refused: false };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('SocketOperations', () => {
  it('runs up to the limit, queues in arrival order within count and bytes, refuses past', async () => {
    const gate = new SocketOperations(limits);
    const started: string[] = [];
    const ops = ['a', 'b', 'c', 'd', 'e'].map((id) => admitted(gate, started, id, 30));
    expect(ops.map((o) => o.refused)).toEqual([false, false, false, false, false]);
    expect(admitted(gate, started, 'f', 50).refused).toBe(true); // 90 + 50 > 100 bytes
    expect(admitted(gate, started, 'g', 5).refused).toBe(true); // 3 already wait
    await settle();
    expect(started).toEqual(['a', 'b']);
    expect(gate.queued).toEqual({ count: 3, bytes: 90 });
    gate.release('a', ops[0]!.payload);
    gate.release('b', ops[1]!.payload);
    await settle();
    expect(started).toEqual(['a', 'b', 'c', 'd']);
    expect(gate.queued).toEqual({ count: 1, bytes: 30 });
  });

  it('a new operation never overtakes a waiting one, even with a slot free', async () => {
    const gate = new SocketOperations(limits);
    const started: string[] = [];
    const [a, b] = [admitted(gate, started, 'a'), admitted(gate, started, 'b')];
    admitted(gate, started, 'c');
    gate.release('a', a.payload); // c takes a's slot
    gate.release('b', b.payload); // a slot free, nobody waits
    admitted(gate, started, 'd');
    await settle();
    expect(started).toEqual(['a', 'b', 'c', 'd']);
  });

  it('the end of an old operation does not free the slot of a new one with its id', async () => {
    const gate = new SocketOperations({ ...limits, running: 1 });
    const started: string[] = [];
    const old = admitted(gate, started, 'x');
    gate.release('x'); // the client's complete: the slot is free at once
    const reused = admitted(gate, started, 'x');
    const cancelled: string[] = [];
    await settle();
    expect(gate.started('x', old.payload, { cancel: () => cancelled.push('old') })).toBe(false);
    expect(gate.started('x', reused.payload, { cancel: () => cancelled.push('new') })).toBe(true);
    gate.release('x', old.payload); // graphql-ws completes the old one later: nothing happens
    admitted(gate, started, 'y');
    await settle();
    expect(started).toEqual(['x', 'x']);
    expect(cancelled).toEqual([]);
    gate.release('x', reused.payload);
    await settle();
    expect(cancelled).toEqual(['new']);
    expect(started).toEqual(['x', 'x', 'y']);
  });

  it('completed or closed while waiting: dropped, bytes given back, nothing admitted after close', async () => {
    const gate = new SocketOperations(limits);
    const started: string[] = [];
    const [a] = [admitted(gate, started, 'a'), admitted(gate, started, 'b')];
    admitted(gate, started, 'c', 40);
    admitted(gate, started, 'd', 40);
    gate.release('c');
    await settle();
    expect(started).toEqual(['a', 'b', 'dropped:c']);
    expect(gate.queued).toEqual({ count: 1, bytes: 40 });
    gate.close();
    gate.release('a', a.payload);
    await settle();
    expect(started).toEqual(['a', 'b', 'dropped:c', 'dropped:d']);
    expect(gate.queued).toEqual({ count: 0, bytes: 0 });
    expect(gate.enter('e', {}, 1)).toBe(false);
  });

  it('a wait past waitMs ends without a slot, the oldest first; one timer per socket', async () => {
    const clock = new ManualClock();
    const gate = new SocketOperations(limits, clock);
    const started: string[] = [];
    const [a] = [admitted(gate, started, 'a'), admitted(gate, started, 'b')];
    admitted(gate, started, 'c');
    clock.advance(400);
    admitted(gate, started, 'd');
    expect(clock.pendingTimers).toBe(1);
    clock.advance(600); // c has waited 1000 ms, d 600
    await settle();
    expect(started).toEqual(['a', 'b', 'expired:c']);
    expect(gate.queued).toEqual({ count: 1, bytes: 10 });
    gate.release('a', a.payload); // d gets a's slot: its deadline's timer finds nothing
    clock.advance(1000);
    await settle();
    expect(started).toEqual(['a', 'b', 'expired:c', 'd']);
    expect(clock.pendingTimers).toBe(0);
    admitted(gate, started, 'e');
    gate.close();
    expect(clock.pendingTimers).toBe(0);
  });
});
