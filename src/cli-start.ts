/**
 * sync-gateway [start] [--port N] [--data-dir DIR] [--jwt-secret S] [--rules FILE] ...
 *
 * Starts the gateway with the settings of config.ts (flags, else environment variables),
 * says where it listens, and in development mode how to mint tokens for it. A port in use
 * (or another address that cannot be listened on) is one line naming the flag to change; so
 * is a rules file that cannot be read, is not JSON, or is not a rules file.
 */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { configFromOptions, type GatewayConfig } from './config.js';

/** A failure the user can fix, printed as its message alone. */
export class StartError extends Error {}

/** Margin after the shutdown timeout for the store to close before the process gives up. */
const EXIT_GRACE_MS = 5_000;

/** `s` as one shell word. */
export function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** How to mint another token this gateway accepts: with its data directory, unless ./data. */
export function mintHint(dataDir: string): string {
  const dir = resolve(dataDir);
  const where = dir === resolve('./data') ? '' : ` --data-dir ${shellQuote(dir)}`;
  return `npx sync-gateway token --sub alice${where} [--admin]`;
}

/** What a failed listen means, in one line naming the setting to change; null: not that. */
export function listenFailure(error: unknown, config: GatewayConfig): StartError | null {
  const e = error as NodeJS.ErrnoException | undefined;
  if (e?.syscall !== 'listen' && e?.syscall !== 'getaddrinfo') return null;
  const at = `${config.host}:${config.port}`;
  if (e.code === 'EADDRINUSE') {
    return new StartError(
      `cannot listen on ${at}: port ${config.port} is in use; stop what holds it, or choose another port with --port / PORT`,
    );
  }
  if (e.code === 'EACCES') {
    return new StartError(
      `cannot listen on ${at}: port ${config.port} needs privileges; choose another port with --port / PORT`,
    );
  }
  if (e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN') {
    return new StartError(
      `cannot listen on ${at}: ${config.host} is not an address of this machine; choose another with --host / HOST`,
    );
  }
  return null;
}

/**
 * Fails with listenFailure's line when `host:port` cannot be listened on. Checked before the
 * gateway starts, so a port in use is one line, not a store opened and log lines of the
 * failed listen; the gateway's own listen still reports it if the port is taken meanwhile.
 */
async function checkListen(config: GatewayConfig): Promise<void> {
  if (config.port === 0) return;
  const { createServer } = await import('node:net');
  const probe = createServer();
  await new Promise<void>((done, fail) => {
    probe.once('error', (error) => fail(listenFailure(error, config) ?? error));
    probe.listen({ port: config.port, host: config.host, exclusive: true }, () =>
      probe.close(() => done()),
    );
  });
}

/**
 * SIGTERM or SIGINT shuts down gracefully (see gateway.ts): exit 0 once done. A second
 * signal, or a shutdown still running past its timeout and a margin, exits at once with 1.
 */
function handleSignals(close: (reason: string) => Promise<void>, timeoutMs: number): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      console.error(`${signal} again: exiting now`);
      process.exit(1);
    }
    stopping = true;
    console.log(`${signal}: shutting down`);
    setTimeout(() => {
      console.error(`shutdown still running after ${timeoutMs + EXIT_GRACE_MS} ms: exiting`);
      process.exit(1);
    }, timeoutMs + EXIT_GRACE_MS).unref();
    close(signal).then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

/** Starts the gateway with the settings of a parsed start command, over `env`. */
export async function startFromOptions(command: Command, env: NodeJS.ProcessEnv): Promise<void> {
  const config = configFromOptions(command, env);
  // Read before the port is tried and the gateway loaded: a bad file is one line at once.
  const rules = (await import('./rules-file.js')).rulesOf(config);
  await checkListen(config);
  const [{ startGateway }, { mintToken }] = await Promise.all([
    import('./server/gateway.js'),
    import('./auth/jwt.js'),
  ]);
  const gateway = await startGateway(config, { rules }).catch((error: unknown) => {
    throw listenFailure(error, config) ?? error;
  });
  // Before the banner: whoever waits for it to send SIGTERM gets the graceful shutdown.
  handleSignals((reason) => gateway.close(reason), config.shutdownTimeoutMs);
  const graphiql = config.graphiql ? 'GraphiQL there; ' : '';
  console.log(`sync gateway listening on ${gateway.url} (${graphiql}health at /health)`);
  if (gateway.devMode) {
    const token = await mintToken(gateway.auth.secret, 'dev');
    console.log(
      'DEVELOPMENT MODE: no JWT_SECRET is set. Requests without a token act as user "dev".',
    );
    console.log(`  token for "dev": ${token}`);
    console.log(`  mint others with: ${mintHint(config.dataDir)}`);
  }
}
