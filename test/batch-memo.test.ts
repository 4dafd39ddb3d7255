/**
 * The batches streams share (src/sync/batch-memo.ts): the same range, versions and changes
 * give the same object, whether asked for in turn or interleaved; anything else its own.
 */
import { describe, expect, it } from 'vitest';
import { BatchMemo } from '../src/sync/batch-memo.js';
import type { DownloadChange } from '../src/sync/download-batch.js';

const upsert = (v: number): DownloadChange => ({
  serverVersion: v,
  collection: 'cars',
  id: `c${v}`,
  op: 'UPSERT',
  document: { n: v },
});
const remove = (v: number): DownloadChange => ({ ...upsert(v), op: 'REMOVE', document: null });
const q = (queriesVersion: number) => ({ queriesVersion });

describe('batch memo', () => {
  it('gives streams that make the same batch, in turn or interleaved, the same object', () => {
    const memo = new BatchMemo();
    const a = memo.make(1, 2, [upsert(2)], 2, q(1));
    expect(memo.make(1, 2, [upsert(2)], 2, q(1))).toBe(a);
    const b = memo.make(1, 2, [remove(2)], 2, q(1));
    expect(b).not.toBe(a);
    expect(b.changes[0]!.op).toBe('REMOVE');
    expect(memo.make(1, 2, [upsert(2)], 2, q(1))).toBe(a);
    expect(memo.make(1, 2, [remove(2)], 2, q(1))).toBe(b);
  });

  it('makes a batch of its own for another range, latest version, queries version or change', () => {
    const memo = new BatchMemo();
    const a = memo.make(1, 2, [upsert(2)], 2, q(1));
    const others = [
      memo.make(0, 2, [upsert(2)], 2, q(1)),
      memo.make(1, 3, [upsert(2)], 3, q(1)),
      memo.make(1, 2, [upsert(2)], 3, q(1)),
      memo.make(1, 2, [upsert(2)], 2, q(2)),
      memo.make(1, 2, [], 2, q(1)),
      memo.make(1, 2, [upsert(1), upsert(2)], 2, q(1)),
    ];
    for (const o of others) expect(o).not.toBe(a);
    expect(new Set(others).size).toBe(others.length);
    expect(others[3]!.queriesVersion).toBe(2);
    expect(others[2]!.remainingChanges).toBe(1);
  });

  it('never shares a bootstrap batch', () => {
    const memo = new BatchMemo();
    const versions = { queriesVersion: 1, bootstrapUntil: 5 };
    const a = memo.make(0, 5, [upsert(2)], 5, versions);
    expect(memo.make(0, 5, [upsert(2)], 5, versions)).not.toBe(a);
    expect(a.bootstrapUntil).toBe(5);
  });
});
