/**
 * Node's simplest durable storage: the whole state in one JSON file, replaced atomically and
 * fsync'd at every commit, so a commit costs in proportion to the database. Fine for small
 * databases and tools; reads files written by earlier versions of the SDK.
 */
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  fromDatabaseState,
  MemoryStorage,
  toDatabaseState,
  type DatabaseState,
  type Storage,
  type StorageCommit,
  type StoredState,
} from '../storage.js';

export class FileStorage implements Storage {
  private readonly mirror = new MemoryStorage();
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly path: string) {}

  async load(): Promise<StoredState | null> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
    const state = fromDatabaseState(JSON.parse(text) as DatabaseState);
    await this.mirror.commit({
      meta: state.meta,
      putDocs: state.docs,
      putChangesets: state.changesets,
    });
    return state;
  }

  /** Commits are written one after the other, so the file always ends with the newest state. */
  commit(commit: StorageCommit): Promise<void> {
    const write = async () => {
      await this.mirror.commit(commit);
      await this.write(JSON.stringify(toDatabaseState((await this.mirror.load())!)));
    };
    this.writing = this.writing.then(write, write);
    return this.writing;
  }

  /** Resolves when every commit so far is on disk. */
  async flush(): Promise<void> {
    await this.writing;
  }

  private async write(text: string): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    const temp = `${this.path}.tmp`;
    const file = await open(temp, 'w');
    try {
      await file.writeFile(text);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temp, this.path);
  }
}
