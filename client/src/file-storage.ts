/** Node's durable adapter: the state in one JSON file, replaced atomically and fsync'd. */
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { DatabaseState, Storage } from './storage.js';

export class FileStorage implements Storage {
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly path: string) {}

  async load(): Promise<DatabaseState | null> {
    try {
      return JSON.parse(await readFile(this.path, 'utf8')) as DatabaseState;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  /** Saves are serialised, so the file always ends with the newest state. */
  save(state: DatabaseState): Promise<void> {
    const text = JSON.stringify(state);
    const write = () => this.write(text);
    this.writing = this.writing.then(write, write);
    return this.writing;
  }

  /** Resolves when every save so far is on disk. */
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
