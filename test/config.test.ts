import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

describe('configuration', () => {
  it('has defaults', () => {
    const c = loadConfig([], {});
    expect(c).toMatchObject({ port: 4000, dataDir: './data', store: 'sqlite', jwtSecret: null });
    expect(c.cursorRefreshMs).toBe(30_000);
    expect(loadConfig(['--cursor-refresh-ms', '10'], {}).cursorRefreshMs).toBe(10);
  });

  it('takes flags over environment variables', () => {
    const c = loadConfig(['--port', '5001', '--data-dir', '/tmp/x'], {
      PORT: '5000',
      DATA_DIR: '/var/y',
    });
    expect(c).toMatchObject({ port: 5001, dataDir: '/tmp/x' });
  });

  it.each([
    [['--port', 'abc'], {}, '--port / PORT: "abc"'],
    [[], { PORT: '70000' }, '--port / PORT: "70000"'],
    [[], { JWT_SECRET: 'short' }, '--jwt-secret / JWT_SECRET: must be at least 32'],
    [['--store', 'redis'], {}, '--store / STORE: "redis" is not a store'],
    [['--store', 'mongodb'], {}, '--mongodb-uri / MONGODB_URI: a mongodb://'],
    [[], { MONGODB_URI: 'http://x' }, '--mongodb-uri / MONGODB_URI'],
    [['--bogus'], {}, "Unknown option '--bogus'"],
    [[], { MAX_DOCUMENT_BYTES: '-1' }, '--max-document-bytes / MAX_DOCUMENT_BYTES'],
    [[], { CURSOR_REFRESH_MS: '5' }, '--cursor-refresh-ms / CURSOR_REFRESH_MS: "5"'],
  ])('rejects %j %j with a message naming the setting', (argv, env, message) => {
    expect(() => loadConfig(argv, env)).toThrow(ConfigError);
    expect(() => loadConfig(argv, env)).toThrow(message);
  });
});
