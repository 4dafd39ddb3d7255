/**
 * The CLI as a user runs it (`node --import tsx src/cli.ts ...`, a child process): --help and
 * --version on every command, every setting in the start command's help with its variable
 * and default, one line and exit code 1 for the failures a user can fix (a port in use, a
 * bad rules file, a bad flag), and the development-mode hint: the command it prints mints
 * tokens the gateway it came from accepts.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintHint, shellQuote } from '../src/cli-start.js';
import { withDefaultCommand } from '../src/cli-program.js';
import { SETTINGS } from '../src/config.js';
import { REPO } from './helpers/child-gateway.js';

const VERSION = (
  JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }
).version;

/** The environment of a shell with none of the gateway's settings in it. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'silent', ...extra };
  for (const s of Object.values(SETTINGS)) if (!(s.env in extra)) delete env[s.env];
  delete env.NODE_ENV;
  return env;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cliAt(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli.ts', ...args],
      { cwd: REPO, env: cleanEnv(env), timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** A failure a user can fix: exit code 1, one line on stderr, nothing else (no log, no stack). */
function expectOneLine(run: Run, pattern: RegExp): void {
  expect(run.code).toBe(1);
  const lines = run.stderr.trim().split('\n');
  expect(lines, run.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(run.stdout).toBe('');
}

/** The words of a shell command as printed by the CLI (plain words and '...' quoting). */
function shellWords(line: string): string[] {
  const words: string[] = [];
  for (const m of line.matchAll(/'((?:[^']|'\\'')*)'|(\S+)/g)) {
    words.push(m[1] !== undefined ? m[1].replace(/'\\''/g, "'") : m[2]!);
  }
  return words;
}

const cli = cliAt;

interface Started {
  proc: ChildProcess;
  url: string;
  lines: string[];
}

/** A gateway started by the CLI; resolves once it printed its hint (or its banner in dev). */
async function startCli(args: string[], env: Record<string, string>, until: RegExp) {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
    cwd: REPO,
    env: cleanEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(proc);
  let out = '';
  let err = '';
  proc.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  return new Promise<Started>((resolve, reject) => {
    proc.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const lines = out.split('\n').filter((l) => !l.startsWith('{'));
      const url = /listening on (http:\/\/\S+\/graphql)/.exec(out)?.[1];
      if (url && until.test(out)) resolve({ proc, url, lines });
    });
    proc.once('exit', (code) => reject(new Error(`exited ${code} before starting:\n${err}`)));
  });
}

const children: ChildProcess[] = [];
let dir: string;
beforeAll(() => void (dir = mkdtempSync(join(tmpdir(), 'cli-'))));
afterAll(async () => {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('help and version', () => {
  it('prints the commands, and each command its options, with exit code 0', async () => {
    const [top, start, token, migrate, types] = await Promise.all([
      cli(['--help']),
      cli(['start', '--help']),
      cli(['token', '--help']),
      cli(['migrate', '--help']),
      cli(['types', '-h']),
    ]);
    for (const run of [top, start, token, migrate, types]) expect(run.code).toBe(0);
    expect(top.stdout).toMatch(/^Usage: sync-gateway \[options\] \[command\]/);
    for (const command of ['start', 'token', 'migrate', 'types']) {
      expect(top.stdout).toMatch(new RegExp(`^  ${command} \\[options\\]`, 'm'));
    }
    const flat = (run: Run) => run.stdout.replace(/\s+/g, ' ');
    expect(flat(token)).toMatch(/--sub <user> .*--admin .*--expires <span> .*\(default: 30d\)/);
    expect(flat(token)).toContain('(env: DATA_DIR, default: ./data)');
    expect(flat(token)).toContain('(env: JWT_SECRET, default:');
    expect(flat(migrate)).toContain('(mongodb://...) (env: MONGODB_URI)');
    expect(flat(migrate)).toContain('(env: SQLITE_FILE, default: DATA_DIR/gateway.sqlite)');
    expect(flat(types)).toContain(
      '--rules <file> the rules file whose collection schemas to type (env: RULES_FILE)',
    );
  });

  it('lists every setting of config.ts as a flag with its variable and default', async () => {
    const { stdout } = await cli(['start', '--help']);
    const help = stdout.replace(/\s+/g, ' ');
    for (const s of Object.values(SETTINGS)) {
      const shown = 'int' in s ? String(s.int.default) : s.shown;
      expect(help).toContain(`--${s.flag} `);
      expect(help).toContain(`env: ${s.env}, default: ${shown}`);
    }
  });

  it('prints the version of package.json on every command', async () => {
    const runs = await Promise.all([
      cli(['--version']),
      cli(['-V']),
      cli(['start', '--version']),
      cli(['token', '--version']),
      cli(['migrate', '--version']),
      cli(['types', '--version']),
    ]);
    for (const run of runs) expect(run).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: '' });
  });

  it('starts the gateway when no command is named', () => {
    expect(withDefaultCommand([])).toEqual(['start']);
    expect(withDefaultCommand(['--port', '5000'])).toEqual(['start', '--port', '5000']);
    expect(withDefaultCommand(['--help'])).toEqual(['--help']);
    expect(withDefaultCommand(['token', '--sub', 'a'])).toEqual(['token', '--sub', 'a']);
  });
});

describe('failures a user can fix: one line, exit code 1, even with logs on', () => {
  const cli = (args: string[], env: Record<string, string> = {}) =>
    cliAt(args, { LOG_LEVEL: 'info', ...env });
  let holder: Server;
  let port: number;
  beforeAll(async () => {
    holder = createServer();
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
    port = (holder.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((r) => holder.close(() => r())));

  it('a port in use names the port and --port / PORT', async () => {
    const args = ['--host', '127.0.0.1', '--port', String(port), '--data-dir', dir];
    const run = await cli(args, { SQLITE_FILE: ':memory:' });
    expectOneLine(
      run,
      new RegExp(`^cannot listen on 127\\.0\\.0\\.1:${port}: port ${port} is in use`),
    );
    expect(run.stderr).toContain('--port / PORT');
    const viaEnv = await cli(['start', '--data-dir', dir], {
      HOST: '127.0.0.1',
      PORT: String(port),
      SQLITE_FILE: ':memory:',
    });
    expectOneLine(viaEnv, new RegExp(`port ${port} is in use.*--port / PORT`));
  });

  const rulesCases: [string, string, string, RegExp][] = [
    [
      'without collections',
      'no-collections.json',
      JSON.stringify({ default: { read: true, write: true } }),
      /^configuration error: --rules \/ RULES_FILE: rules\.collections is missing: it must be an object of collection names .* \(in .*no-collections\.json\)$/,
    ],
    [
      'with an unknown top-level key',
      'typo.json',
      JSON.stringify({ collections: {}, colections: {} }),
      /rules\.colections is not a key rules may have \(only "collections", "default"\)/,
    ],
    [
      'with a rule that is no rule',
      'yes.json',
      JSON.stringify({ collections: { cars: { read: 'yes', write: true } } }),
      /rules\.collections\.cars\.read must be true, false or a filter object/,
    ],
    [
      'that is not JSON',
      'not-json.json',
      '{\n  "collections": {\n    "cars": { "read": true, "write": true, }\n  }\n}\n',
      /^configuration error: --rules \/ RULES_FILE: \S*not-json\.json:3:44: not valid JSON: /,
    ],
  ];

  it.each(rulesCases)(
    'a rules file %s names the file and the field',
    async (_, name, text, message) => {
      const file = join(dir, name);
      writeFileSync(file, text);
      const run = await cli(['--port', '0', '--data-dir', dir, '--rules', file], {
        SQLITE_FILE: ':memory:',
      });
      expectOneLine(run, message);
    },
  );

  it('a rules file that cannot be read, for the gateway and for types', async () => {
    const missing = join(dir, 'missing.json');
    const start = await cli(['--port', '0', '--data-dir', dir], {
      RULES_FILE: missing,
      SQLITE_FILE: ':memory:',
    });
    expectOneLine(start, /--rules \/ RULES_FILE: cannot read the rules file: ENOENT/);
    const types = await cli(['types', '--rules', missing]);
    expectOneLine(types, /--rules \/ RULES_FILE: cannot read the rules file: ENOENT/);
  });

  it('a bad flag or value, a missing --sub, a bad --expires, an unknown command', async () => {
    const [bogus, typo, value, noSub, expires, command, short] = await Promise.all([
      cli(['--bogus']),
      cli(['start', '--prot', '5000']),
      cli(['--port', 'abc']),
      cli(['token', '--data-dir', dir]),
      cli(['token', '--sub', 'alice', '--data-dir', dir, '--expires', 'soon']),
      cli(['strat']),
      cli(['token', '--sub', 'alice', '--jwt-secret', 'short']),
    ]);
    expectOneLine(bogus, /^error: unknown option '--bogus'$/);
    expect(typo.code).toBe(1);
    expect(typo.stderr).toContain("error: unknown option '--prot'\n(Did you mean --port?)");
    expectOneLine(value, /^configuration error: --port \/ PORT: "abc" is not a whole number/);
    expectOneLine(noSub, /^error: required option '--sub <user>' not specified$/);
    expectOneLine(expires, /^configuration error: --expires: "soon" is not a time span/);
    expect(command.code).toBe(1);
    expect(command.stderr).toMatch(/^error: unknown command 'strat'/);
    expectOneLine(short, /--jwt-secret \/ JWT_SECRET: must be at least 32 characters/);
  });
});

describe('starting', () => {
  it('in development mode prints a token command with its data dir, whose tokens it accepts', async () => {
    const dataDir = join(dir, 'a data dir');
    mkdirSync(dataDir);
    const gateway = await startCli(
      ['--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir],
      { SQLITE_FILE: ':memory:' },
      /mint others with: .*\n/,
    );
    expect(gateway.lines[0]).toMatch(/\(GraphiQL there; health at \/health\)$/);
    const hint = /mint others with: (.*)/.exec(gateway.lines.join('\n'))![1]!;
    expect(hint).toBe(mintHint(dataDir));
    expect(hint).toBe(`npx sync-gateway token --sub alice --data-dir '${dataDir}' [--admin]`);

    // The printed command, as a user runs it (npx sync-gateway is the CLI; --admin is optional).
    const words = shellWords(hint.replace(' [--admin]', ''));
    expect(words.slice(0, 3)).toEqual(['npx', 'sync-gateway', 'token']);
    const minted = await cli(words.slice(2));
    expect(minted.code).toBe(0);
    const elsewhere = await cli(['token', '--sub', 'alice', '--data-dir', join(dir, 'other')]);

    const ask = async (token: string) => {
      const response = await fetch(gateway.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: '{ __typename }' }),
      });
      return (await response.json()) as { data?: unknown; errors?: unknown[] };
    };
    expect(await ask(minted.stdout.trim())).toEqual({ data: { __typename: 'Query' } });
    expect((await ask(elsewhere.stdout.trim())).errors).toMatchObject([
      { extensions: { code: 'UNAUTHENTICATED' } },
    ]);
    gateway.proc.kill('SIGTERM');
    const [code] = (await once(gateway.proc, 'exit')) as [number | null];
    expect(code).toBe(0);
  }, 90_000);

  it('does not announce GraphiQL when it is off', async () => {
    const gateway = await startCli(
      ['start', '--host', '127.0.0.1', '--port', '0', '--graphiql', 'false'],
      { SQLITE_FILE: ':memory:', DATA_DIR: join(dir, 'quiet'), JWT_SECRET: 'x'.repeat(32) },
      /listening on .*\n/,
    );
    expect(gateway.lines[0]).toMatch(/^sync gateway listening on http:\S+ \(health at \/health\)$/);
    expect(gateway.lines.join('\n')).not.toContain('DEVELOPMENT MODE');
    gateway.proc.kill('SIGTERM');
    await once(gateway.proc, 'exit');
  }, 90_000);

  it('prints the default data dir as no flag at all, and quotes what a shell would split', () => {
    expect(mintHint('./data')).toBe('npx sync-gateway token --sub alice [--admin]');
    expect(mintHint(join(process.cwd(), 'data'))).toBe(
      'npx sync-gateway token --sub alice [--admin]',
    );
    expect(shellQuote('/srv/gw')).toBe('/srv/gw');
    expect(shellQuote("/tmp/it's here")).toBe("'/tmp/it'\\''s here'");
    expect(shellWords(`x --data-dir ${shellQuote("/tmp/it's here")}`)).toEqual([
      'x',
      '--data-dir',
      "/tmp/it's here",
    ]);
  });
});
