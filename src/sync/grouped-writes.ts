/**
 * Session writes made in groups: what arrives while a write is on its way waits for the
 * next one, which carries everything that arrived meanwhile, one value per key (merged),
 * in one store write (one transaction, one fsync). Each `add` resolves once its value is
 * written (or rejects with the group's error): as durable as a write of its own, at the
 * cost of one write per group instead of one per caller. A GroupCommit whose runner
 * merges its group by key.
 */
import { GroupCommit } from '../streams/group-commit.js';

interface Item<V> {
  key: string;
  value: V;
}

export class GroupedWrites<V> {
  private readonly commits: GroupCommit<Item<V>, void>;

  constructor(
    write: (group: Map<string, V>) => Promise<void>,
    merge: (older: V, newer: V) => V = (_older, newer) => newer,
  ) {
    this.commits = new GroupCommit<Item<V>, void>(async (items) => {
      const group = new Map<string, V>();
      for (const { key, value } of items) {
        const older = group.get(key);
        group.set(key, older === undefined ? value : merge(older, value));
      }
      await write(group);
      return items.map(() => ({ ok: true as const, value: undefined }));
    });
  }

  add(key: string, value: V): Promise<void> {
    return this.commits.submit({ key, value });
  }

  /** Resolves when nothing is pending or being written. */
  idle(): Promise<void> {
    return this.commits.idle();
  }
}
