/**
 * GroupCommit (src/streams/group-commit.ts): what is submitted in one turn runs as one
 * group; with `maxInFlight` above 1, the next group is sent while one still runs (the SQLite
 * writer thread queues it), never more at once, and every submit settles with its own outcome.
 */
import { describe, expect, it } from 'vitest';
import { GroupCommit } from '../src/streams/group-commit.js';

/** A runner whose groups settle only when the test says: each call waits on a gate of its own. */
function gatedRunner() {
  const groups: number[][] = [];
  const gates: (() => void)[] = [];
  let running = 0;
  let most = 0;
  const run = async (items: number[]) => {
    groups.push(items);
    running += 1;
    most = Math.max(most, running);
    await new Promise<void>((open) => gates.push(open));
    running -= 1;
    return items.map((n) => ({ ok: true as const, value: n * 10 }));
  };
  return { run, groups, gates, most: () => most };
}

const turn = () => new Promise<void>((r) => setImmediate(r));

describe('GroupCommit', () => {
  it('with one group in flight, the next forms only once it settles', async () => {
    const runner = gatedRunner();
    const commits = new GroupCommit(runner.run);
    const first = [commits.submit(1), commits.submit(2)];
    await turn();
    const later = [commits.submit(3), commits.submit(4)];
    await turn();
    await turn();
    expect(runner.groups).toEqual([[1, 2]]);
    runner.gates.shift()!();
    expect(await Promise.all(first)).toEqual([10, 20]);
    await turn();
    await turn();
    expect(runner.groups).toEqual([
      [1, 2],
      [3, 4],
    ]);
    runner.gates.shift()!();
    expect(await Promise.all(later)).toEqual([30, 40]);
    await commits.idle();
  });

  it('with two in flight, the next group goes while one runs, never a third', async () => {
    const runner = gatedRunner();
    const commits = new GroupCommit(runner.run, undefined, 2);
    const outcomes: Promise<number>[] = [];
    for (let g = 0; g < 4; g++) {
      outcomes.push(commits.submit(g * 2), commits.submit(g * 2 + 1));
      await turn();
      await turn();
    }
    expect(runner.groups).toEqual([
      [0, 1],
      [2, 3],
    ]);
    runner.gates.shift()!();
    await turn();
    await turn();
    expect(runner.groups).toEqual([
      [0, 1],
      [2, 3],
      [4, 5, 6, 7],
    ]);
    let idle = false;
    const idling = commits.idle().then(() => (idle = true));
    while (runner.gates.length > 0) {
      await turn();
      expect(idle).toBe(false); // a group is still in flight
      runner.gates.shift()!();
      await turn();
    }
    expect(await Promise.all(outcomes)).toEqual([0, 10, 20, 30, 40, 50, 60, 70]);
    await idling;
    expect(idle).toBe(true);
    expect(runner.most()).toBe(2);
  });
});
