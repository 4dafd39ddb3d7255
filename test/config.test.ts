import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, SETTINGS, SETTING_VARIABLES } from '../src/config.js';

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

  it('has a setting (flag and variable) for every field', () => {
    expect(Object.keys(loadConfig([], {})).sort()).toEqual(Object.keys(SETTINGS).sort());
    expect(SETTING_VARIABLES).toEqual(Object.values(SETTINGS).map((s) => s.env));
    expect(new Set(Object.values(SETTINGS).map((s) => s.flag)).size).toBe(SETTING_VARIABLES.length);
  });

  it('reads every setting from its flag and from its variable alike', () => {
    const value = (s: (typeof SETTINGS)[keyof typeof SETTINGS]) => {
      if ('int' in s) return String(s.int.min === 0 ? 1 : s.int.min);
      if (!('arg' in s)) return 'true';
      if (s.flag === 'store') return 'mongodb';
      if (s.flag === 'mongodb-uri') return 'mongodb://h/?replicaSet=rs0';
      if (s.flag === 'jwt-secret') return 'j'.repeat(32);
      return `value-of-${s.flag}`;
    };
    const settings = Object.values(SETTINGS);
    const argv = settings.flatMap((s) => [`--${s.flag}`, value(s)]);
    const env = Object.fromEntries(settings.map((s) => [s.env, value(s)]));
    const fromFlags = loadConfig(argv, {});
    expect(loadConfig([], env)).toEqual(fromFlags);
    expect(fromFlags).toMatchObject({ port: 1, multiGateway: true, rulesFile: 'value-of-rules' });
  });

  it('takes a switch bare, or true and false', () => {
    expect(loadConfig(['--multi-gateway'], {}).multiGateway).toBe(true);
    expect(loadConfig(['--multi-gateway', '--port', '1'], {})).toMatchObject({
      multiGateway: true,
      port: 1,
    });
    expect(loadConfig(['--multi-gateway', 'false'], { MULTI_GATEWAY: 'true' }).multiGateway).toBe(
      false,
    );
    expect(loadConfig(['--graphiql', '0'], {}).graphiql).toBe(false);
    expect(loadConfig([], { NODE_ENV: 'production' })).toMatchObject({
      graphiql: false,
      introspection: false,
    });
    expect(() => loadConfig(['--graphiql', 'maybe'], {})).toThrow(
      '--graphiql / GRAPHIQL: "maybe" is not true or false',
    );
  });

  it('counts an empty variable as unset, and refuses what is not an option', () => {
    expect(loadConfig([], { PORT: '', JWT_SECRET: '' })).toMatchObject({
      port: 4000,
      jwtSecret: null,
    });
    expect(loadConfig([], { METRICS_TOKEN: 'scrape' }).metricsToken).toBe('scrape');
    expect(() => loadConfig(['start'], {})).toThrow(ConfigError);
    expect(() => loadConfig(['--port'], {})).toThrow("Option '--port <n>' argument missing");
    expect(() => loadConfig(['--prot', '1'], {})).toThrow("Unknown option '--prot'");
  });
});
