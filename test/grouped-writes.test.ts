import { describe, expect, it } from 'vitest';
import { GroupedWrites } from '../src/sync/grouped-writes.js';

describe('GroupedWrites', () => {
  it('writes what arrives in one turn as one group, one merged value per key', async () => {
    const groups: [string, number][][] = [];
    const writes = new GroupedWrites<number>(async (g) => void groups.push([...g]), Math.max);
    await Promise.all([writes.add('a', 3), writes.add('b', 1), writes.add('a', 2)]);
    expect(groups).toEqual([
      [
        ['a', 3],
        ['b', 1],
      ],
    ]);
  });

  it('what arrives during a write waits for the next group; each add resolves once written', async () => {
    const groups: string[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const writes = new GroupedWrites<true>(async (g) => {
      groups.push([...g.keys()]);
      if (groups.length === 1) await gate;
    });
    let firstDone = false;
    const first = writes.add('a', true).then(() => (firstDone = true));
    await new Promise((r) => setImmediate(r));
    const second = writes.add('b', true);
    const third = writes.add('c', true);
    expect(firstDone).toBe(false);
    release();
    await Promise.all([first, second, third]);
    expect(groups).toEqual([['a'], ['b', 'c']]);
    await writes.idle();
  });

  it('a failed write rejects every add of its group, and the next group still goes', async () => {
    let fail = true;
    const written: string[] = [];
    const writes = new GroupedWrites<true>(async (g) => {
      if (fail) throw new Error('disk full');
      written.push(...g.keys());
    });
    const failed = await Promise.allSettled([writes.add('a', true), writes.add('b', true)]);
    expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    await writes.add('c', true);
    expect(written).toEqual(['c']);
  });
});
