/**
 * No container runtime runs here, so the Dockerfile and compose.yaml are kept honest against
 * the code instead: the image starts the package's bin, exposes the port the gateway listens
 * on by default, checks a health path the gateway answers (its HEALTHCHECK command is run
 * against a real gateway), runs as a user that is not root, keeps its data in the volume
 * DATA_DIR names, and installs only production dependencies, which hold every package src/
 * imports; each gateway of compose.yaml has an environment the gateway's configuration
 * accepts, on the replica set the compose file initiates.
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { ConfigError, loadConfig, SETTING_VARIABLES } from '../src/config.js';
import { REPO } from './helpers/child-gateway.js';
import { startTestGateway, type TestGateway } from './helpers/gateway.js';

const run = promisify(execFile);
const read = (name: string) => readFileSync(join(REPO, name), 'utf8');

interface Instruction {
  keyword: string;
  args: string;
}
interface Stage {
  name: string | null;
  base: string;
  instructions: Instruction[];
}

/** The Dockerfile's stages and their instructions (continuations joined, comments dropped). */
function parseDockerfile(text: string): Stage[] {
  const lines = text
    .replace(/\\\n(\s*#.*\n)*/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const stages: Stage[] = [];
  for (const line of lines) {
    const [, keyword, args] = /^(\w+)\s+(.*)$/.exec(line)!;
    const instruction = { keyword: keyword!.toUpperCase(), args: args!.replace(/\s+/g, ' ') };
    if (instruction.keyword === 'FROM') {
      const [, base, name] = /^(\S+)(?: AS (\S+))?$/i.exec(instruction.args)!;
      stages.push({ name: name ?? null, base: base!, instructions: [] });
    } else if (stages.length > 0) stages.at(-1)!.instructions.push(instruction);
  }
  return stages;
}

const dockerfile = parseDockerfile(read('Dockerfile'));
const runtime = dockerfile.at(-1)!;
const stage = (name: string) => dockerfile.find((s) => s.name === name)!;
const all = (s: Stage, keyword: string) =>
  s.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);
const one = (s: Stage, keyword: string) => {
  const found = all(s, keyword);
  expect(found, `${keyword} in stage ${s.name ?? 'runtime'}`).toHaveLength(1);
  return found[0]!;
};

/** ENV lines (`A=1 B=2`) as an object. */
function envOf(s: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const args of all(s, 'ENV')) {
    for (const [, key, value] of args.matchAll(/(\w+)=("[^"]*"|\S+)/g)) {
      env[key!] = value!.replace(/^"|"$/g, '');
    }
  }
  return env;
}

const pkg = JSON.parse(read('package.json')) as {
  bin: Record<string, string>;
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
};
const imageEnv = envOf(runtime);

describe('the Dockerfile', () => {
  it('builds in a stage with the dev dependencies, as the package builds', () => {
    const build = stage('build');
    expect(build.base).toMatch(/^node:\$\{NODE_VERSION\}-slim$/);
    expect(all(build, 'RUN')).toContain('npm ci --ignore-scripts --no-audit --no-fund');
    expect(all(build, 'RUN')).toContain('npm run build');
    expect(pkg.scripts.build).toBe('tsc -p tsconfig.build.json');
    expect(all(runtime, 'COPY')).toContain('--from=build /app/dist dist');
  });

  it('starts the package bin with the node flags npm start gives it, as npm start does', () => {
    const bin = pkg.bin['sync-gateway'];
    // npm start: scripts/start.mjs builds dist/ when stale, then imports the same bin.
    const [, flags] = /^exec node ((?:--\S+ )*)scripts\/start\.mjs$/.exec(pkg.scripts.start!)!;
    const nodeFlags = flags!.trim().split(' ');
    expect(nodeFlags).toEqual(['--max-semi-space-size=64']);
    expect(JSON.parse(one(runtime, 'CMD'))).toEqual(['node', ...nodeFlags, bin]);
    expect(read('scripts/start.mjs')).toContain("pkg.bin['sync-gateway']");
    // The CLI reads its version from package.json, beside dist/.
    expect(all(runtime, 'COPY').some((c) => /^package\.json\b/.test(c))).toBe(true);
  });

  it('runs with production dependencies only, which hold every package src/ imports', () => {
    expect(all(stage('deps'), 'RUN').join(' ')).toContain('npm ci --omit=dev');
    expect(all(runtime, 'COPY')).toContain('--from=deps /app/node_modules node_modules');
    const files = readdirSync(join(REPO, 'src'), { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && e.name.endsWith('.ts'))
      .map((e) => join(e.parentPath, e.name));
    const imported = new Set<string>();
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      const specifiers = [
        ...text.matchAll(/^import (?!type )[^;]*? from '([^']+)'/gms),
        ...text.matchAll(/\bimport\('([^']+)'\)/g),
      ].map((m) => m[1]!);
      for (const s of specifiers) {
        if (s.startsWith('.') || s.startsWith('node:')) continue;
        imported.add(s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0]!);
      }
    }
    expect(imported.size).toBeGreaterThan(10);
    const missing = [...imported].filter((name) => !(name in pkg.dependencies));
    expect(missing).toEqual([]);
  });

  it('exposes the port the gateway listens on by default', () => {
    const exposed = Number(one(runtime, 'EXPOSE'));
    expect(exposed).toBe(loadConfig([], {}).port);
    expect(loadConfig([], imageEnv).port).toBe(exposed);
  });

  it('keeps the data in the volume DATA_DIR names, owned by the user it runs as', () => {
    const [volume] = JSON.parse(one(runtime, 'VOLUME')) as string[];
    expect(imageEnv.DATA_DIR).toBe(volume);
    expect(loadConfig([], imageEnv).dataDir).toBe(volume);
    const user = one(runtime, 'USER');
    expect(all(runtime, 'RUN')).toContain(`mkdir -p ${volume} && chown ${user}:${user} ${volume}`);
  });

  it('runs as a user that is not root, one the base image has', () => {
    const user = one(runtime, 'USER');
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    expect(user).toBe('node'); // the official node images' unprivileged user (uid 1000)
    expect(runtime.base).toMatch(/^node:\$\{NODE_VERSION\}-slim$/);
  });

  it('sets only settings the gateway knows, in production mode', () => {
    const known = new Set([...SETTING_VARIABLES, 'NODE_ENV']);
    expect(Object.keys(imageEnv).filter((k) => !known.has(k))).toEqual([]);
    expect(imageEnv.NODE_ENV).toBe('production');
    expect(loadConfig([], imageEnv)).toMatchObject({ graphiql: false, introspection: false });
  });

  describe('its health check', () => {
    let gateway: TestGateway;
    beforeAll(
      async () => void (gateway = await startTestGateway({ env: { NODE_ENV: 'production' } })),
    );
    afterAll(() => gateway.close());

    const healthCheck = () => {
      const [, command] = /^(?:--\S+ )*CMD (\[.*\])$/.exec(one(runtime, 'HEALTHCHECK'))!;
      return JSON.parse(command!) as string[];
    };
    const check = (port: number) => {
      const [program, ...args] = healthCheck();
      expect(program).toBe('node');
      return run(process.execPath, args, { env: { ...process.env, PORT: String(port) } }).then(
        () => 0,
        (error: { code: number }) => error.code,
      );
    };

    it('asks a path the gateway answers with 200', async () => {
      const path = /\/health\b/.exec(healthCheck().join(' '))?.[0];
      expect(path).toBe('/health');
      const response = await fetch(new URL(path!, gateway.gateway.url));
      expect(response.status).toBe(200);
    });

    it('passes against a serving gateway and fails where none listens', async () => {
      expect(await check(gateway.gateway.port)).toBe(0);
      const free = createServer();
      await new Promise<void>((r) => free.listen(0, '127.0.0.1', r));
      const port = (free.address() as { port: number }).port;
      await new Promise<void>((r) => free.close(() => r()));
      expect(await check(port)).toBe(1);
    });
  });
});

describe('.dockerignore', () => {
  const patterns = read('.dockerignore')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));

  /** Whether the build context leaves `path` out (the last matching pattern decides). */
  function ignored(path: string): boolean {
    let out = false;
    for (const pattern of patterns) {
      const negated = pattern.startsWith('!');
      const glob = negated ? pattern.slice(1) : pattern;
      const source = glob
        .split('/')
        .map((part) =>
          part === '**' ? '.*' : part.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*'),
        )
        .join('/')
        .replace(/^\.\*\//, '(?:.*/)?');
      // A pattern matches the path or a directory above it.
      if (new RegExp(`^${source}(?:/.*)?$`).test(path)) out = !negated;
    }
    return out;
  }

  it('keeps what the Dockerfile copies from the context, and leaves the rest out', () => {
    const copied = dockerfile
      .flatMap((s) => all(s, 'COPY'))
      .filter((args) => !args.startsWith('--from'))
      .flatMap((args) => args.split(' ').slice(0, -1));
    expect(copied).toEqual(expect.arrayContaining(['src', 'package.json', 'client/package.json']));
    expect(copied.filter(ignored)).toEqual([]);
    for (const path of ['node_modules', 'client/node_modules/x', 'dist', 'data', '.git', 'test']) {
      expect(ignored(path), path).toBe(true);
    }
  });
});

describe('compose.yaml', () => {
  interface Service {
    image?: string;
    build?: unknown;
    command?: string | string[];
    environment?: Record<string, string> | string[];
    ports?: string[];
    depends_on?: Record<string, { condition: string }>;
  }
  const compose = parseYaml(read('compose.yaml'), { merge: true }) as {
    services: Record<string, Service>;
  };
  const services = Object.entries(compose.services);
  const gateways = services.filter(([, s]) => s.build === '.');
  const shell = { JWT_SECRET: 'compose-test-secret-compose-test-secret' };

  /** Compose's interpolation: ${X}, ${X:-default}, ${X:?error} (which stops compose). */
  function interpolate(value: string, env: Record<string, string>): string {
    return value.replace(/\$\{(\w+)(?::([-?])([^}]*))?\}/g, (_, name: string, op, arg) => {
      const given = env[name];
      if (given) return given;
      if (op === '-') return arg as string;
      throw new Error(`compose stops: ${name}: ${arg ?? 'not set'}`);
    });
  }

  function environment(service: Service, env: Record<string, string>): Record<string, string> {
    const list = service.environment ?? {};
    const entries = Array.isArray(list)
      ? list.map((line) => line.split(/=(.*)/s).slice(0, 2) as [string, string])
      : Object.entries(list);
    return Object.fromEntries(entries.map(([k, v]) => [k, interpolate(String(v), env)]));
  }

  it('runs several gateways of this image, each on a port of its own', () => {
    expect(gateways.length).toBeGreaterThanOrEqual(2);
    const hostPorts = gateways.map(([, s]) => {
      expect(s.ports).toHaveLength(1);
      const [host, container] = s.ports![0]!.split(':').map(Number);
      expect(container).toBe(Number(one(runtime, 'EXPOSE')));
      return host;
    });
    expect(new Set(hostPorts).size).toBe(gateways.length);
  });

  it.each(gateways.map(([name]) => name))('%s: an environment the gateway accepts', (name) => {
    const env = environment(compose.services[name]!, shell);
    const known = new Set([...SETTING_VARIABLES, 'NODE_ENV', 'LOG_LEVEL', 'LOG_FORMAT']);
    expect(Object.keys(env).filter((k) => !known.has(k))).toEqual([]);
    let config: ReturnType<typeof loadConfig> | undefined;
    expect(() => (config = loadConfig([], { ...imageEnv, ...env }))).not.toThrow(ConfigError);
    expect(config).toMatchObject({ store: 'mongodb', jwtSecret: shell.JWT_SECRET });
  });

  it('needs JWT_SECRET from the shell: no gateway starts in development mode', () => {
    for (const [, service] of gateways) {
      expect(() => environment(service, {})).toThrow(/compose stops: JWT_SECRET/);
    }
  });

  it('puts the gateways on the replica set it initiates, once MongoDB is ready', () => {
    const uri = new URL(environment(gateways[0]![1], shell).MONGODB_URI!);
    const replicaSet = uri.searchParams.get('replicaSet');
    const mongo = compose.services[uri.hostname]!;
    expect(mongo.image).toMatch(/^mongo:/);
    const command = ([] as string[]).concat(mongo.command ?? []).join(' ');
    expect(command).toContain(`--replSet ${replicaSet}`);
    const [initName, init] = services.find(([, s]) =>
      ([] as string[])
        .concat(s.command ?? [])
        .join(' ')
        .includes('rs.initiate'),
    )!;
    const script = ([] as string[]).concat(init.command!).join(' ');
    expect(script).toContain(`_id: '${replicaSet}'`);
    expect(script).toContain(`host: '${uri.host}'`);
    expect(init.depends_on?.[uri.hostname]?.condition).toBe('service_healthy');
    for (const [, gateway] of gateways) {
      expect(gateway.depends_on?.[initName]?.condition).toBe('service_completed_successfully');
    }
  });
});
