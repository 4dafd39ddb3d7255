/**
 * UploadTurns (src/sync/upload-turns.ts): a session's uploads are handed to the store in the
 * order they came, each prepared while the one before it commits; sessions do not wait for
 * each other; one that fails before it is handed over lets the next one go.
 */
import { describe, expect, it } from 'vitest';
import { UploadTurns } from '../src/sync/upload-turns.js';

/** A promise and its resolve, to hold a step until the test lets it go. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('UploadTurns', () => {
  it('hands a session’s uploads over in the order they came, the next prepared during the commit', async () => {
    const turns = new UploadTurns();
    const log: string[] = [];
    const prepA = gate();
    const commitA = gate();
    const a = turns.run('s1', async (handedOver) => {
      log.push('A starts');
      await prepA.opened; // A's checks take long: B must not overtake it
      log.push('A handed over');
      handedOver();
      await commitA.opened;
      log.push('A committed');
      return 'a';
    });
    const b = turns.run('s1', async (handedOver) => {
      log.push('B starts');
      handedOver();
      log.push('B handed over');
      return 'b';
    });
    await settle();
    expect(log).toEqual(['A starts']);
    prepA.open();
    await settle();
    // B went once A was handed over, while A's commit is still out.
    expect(log).toEqual(['A starts', 'A handed over', 'B starts', 'B handed over']);
    commitA.open();
    expect(await Promise.all([a, b])).toEqual(['a', 'b']);
    expect(turns.size).toBe(0);
  });

  it('does not make one session wait for another', async () => {
    const turns = new UploadTurns();
    const held = gate();
    const log: string[] = [];
    const a = turns.run('s1', async () => {
      await held.opened;
      log.push('s1');
    });
    await turns.run('s2', async () => {
      log.push('s2');
    });
    expect(log).toEqual(['s2']);
    held.open();
    await a;
    expect(turns.size).toBe(0);
  });

  it('lets the next upload go when one fails before it is handed over', async () => {
    const turns = new UploadTurns();
    const failing = turns.run('s1', async () => {
      await settle();
      throw new Error('bad input');
    });
    const next = turns.run('s1', async (handedOver) => {
      handedOver();
      return 'went';
    });
    await expect(failing).rejects.toThrow('bad input');
    expect(await next).toBe('went');
    expect(turns.size).toBe(0);
  });

  it('keeps the order of three, whatever each takes to prepare', async () => {
    const turns = new UploadTurns();
    const handed: number[] = [];
    const delays = [3, 0, 1];
    await Promise.all(
      delays.map((ticks, i) =>
        turns.run('s1', async (handedOver) => {
          for (let t = 0; t < ticks; t++) await settle();
          handed.push(i);
          handedOver();
        }),
      ),
    );
    expect(handed).toEqual([0, 1, 2]);
    expect(turns.size).toBe(0);
  });
});
