/**
 * Vitest globalSetup: finds a MongoDB replica set for the MongoDB store tests, once per run.
 * `MONGODB_URI` if set; else a one-member replica set from mongodb-memory-server when it can
 * get a mongod binary; else none, and one line says why the MongoDB tests are skipped.
 * Tests read the result with `inject('mongodbUri')` ('' when there is none).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The URI of a replica set for the MongoDB store tests, or '' when there is none. */
    mongodbUri: string;
    /** Why there is none ('' when there is one). */
    mongodbSkipReason: string;
  }
}

interface Found {
  uri: string;
  reason: string;
  stop?: () => Promise<void>;
}

/** Runs `start` with console.warn and console.error silenced (the download error's stack). */
async function quietly<T>(start: () => Promise<T>): Promise<T> {
  const { warn, error } = console;
  console.warn = () => {};
  console.error = () => {};
  try {
    return await start();
  } finally {
    Object.assign(console, { warn, error });
  }
}

/** The error's message on one line. */
const oneLine = (error: unknown) =>
  (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ').trim();

async function startMemoryReplSet(): Promise<Found> {
  const { MongoMemoryReplSet } = await import('mongodb-memory-server-core');
  // Our own dbPath: when the binary download fails, the library leaves the temporary
  // directory it made behind. `new` + start() is what MongoMemoryReplSet.create() does.
  const dbPath = mkdtempSync(join(tmpdir(), 'sync-gateway-mongod-'));
  const removeDbPath = () => rmSync(dbPath, { recursive: true, force: true });
  const server = new MongoMemoryReplSet({ replSet: { count: 1 }, instanceOpts: [{ dbPath }] });
  try {
    await quietly(() => server.start());
  } catch (error) {
    removeDbPath();
    const reason = `MONGODB_URI is not set and mongodb-memory-server could not start a mongod (${oneLine(error)})`;
    return { uri: '', reason };
  }
  const stop = async () => {
    await server.stop();
    removeDbPath();
  };
  return { uri: server.getUri(), reason: '', stop };
}

async function findMongo(): Promise<Found> {
  const uri = process.env.MONGODB_URI;
  if (uri) return { uri, reason: '' };
  return startMemoryReplSet();
}

export default async function setup({ provide }: TestProject) {
  const found = await findMongo();
  provide('mongodbUri', found.uri);
  provide('mongodbSkipReason', found.reason);
  if (!found.uri) console.warn(`MongoDB store tests will be skipped: ${found.reason}`);
  return async () => {
    await found.stop?.();
  };
}
