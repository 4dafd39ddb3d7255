#!/usr/bin/env node
/**
 * sync-gateway [start] [--port N] [--data-dir DIR] [--jwt-secret S] [--rules FILE] ...
 * sync-gateway token --sub USER [--admin] [--expires 30d] [--data-dir DIR] [--jwt-secret S]
 * sync-gateway migrate [--from SQLITE_FILE] [--to MONGODB_URI] [--db NAME]
 * sync-gateway types [--rules FILE] [--out FILE]
 */
import { parseArgs } from 'node:util';
import { mintToken } from './auth/jwt.js';
import { ConfigError, loadConfig } from './config.js';
import { REPLICA_SET_REQUIRED } from './store/mongodb/mongo-store.js';
import { MigrationError } from './store/migrate.js';
import { migrateCommand } from './migrate-command.js';
import { loadOrCreateDevSecret } from './server/dev-secret.js';
import { startGateway } from './server/gateway.js';

async function start(argv: string[]): Promise<void> {
  const config = loadConfig(argv, process.env);
  const gateway = await startGateway(config);
  console.log(`sync gateway listening on ${gateway.url} (GraphiQL there; health at /health)`);
  if (gateway.devMode) {
    const token = await mintToken(gateway.auth.secret, 'dev');
    console.log(
      'DEVELOPMENT MODE: no JWT_SECRET is set. Requests without a token act as user "dev".',
    );
    console.log(`  token for "dev": ${token}`);
    console.log('  mint others with: npx sync-gateway token --sub alice [--admin]');
  }
  handleSignals(gateway.close, config.shutdownTimeoutMs);
}

/** Margin after the shutdown timeout for the store to close before the process gives up. */
const EXIT_GRACE_MS = 5_000;

/**
 * SIGTERM or SIGINT shuts down gracefully (see gateway.ts): exit 0 once done. A second
 * signal, or a shutdown still running past its timeout and a margin, exits at once with 1.
 */
function handleSignals(close: () => Promise<void>, timeoutMs: number): void {
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
    close().then(
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

async function token(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      sub: { type: 'string' },
      admin: { type: 'boolean' },
      expires: { type: 'string' },
      'data-dir': { type: 'string' },
      'jwt-secret': { type: 'string' },
    },
  });
  if (!values.sub) throw new ConfigError('--sub: the user id is required');
  const secret =
    values['jwt-secret'] ??
    process.env.JWT_SECRET ??
    loadOrCreateDevSecret(values['data-dir'] ?? process.env.DATA_DIR ?? './data');
  console.log(
    await mintToken(secret, values.sub, values.admin ? ['admin'] : [], values.expires ?? '30d'),
  );
}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  if (command === 'token') return token(rest);
  if (command === 'migrate') return migrateCommand(rest);
  // Loaded only here: json-schema-to-typescript (and prettier) would slow every gateway start.
  if (command === 'types') return (await import('./types-command.js')).typesCommand(rest);
  if (command === 'start') return start(rest);
  return start(process.argv.slice(2));
}

/** One clear line for the failures a user can fix; the whole error otherwise. */
function describeFailure(error: unknown): unknown {
  if (error instanceof ConfigError) return `configuration error: ${error.message}`;
  if (error instanceof Error && error.name.startsWith('Mongo')) {
    return `cannot use MongoDB (${error.name}): ${error.message}`;
  }
  if (error instanceof Error && error.message === REPLICA_SET_REQUIRED) return error.message;
  if (error instanceof MigrationError) return `cannot migrate: ${error.message}`;
  return error;
}

main().catch((error: unknown) => {
  console.error(describeFailure(error));
  process.exit(1);
});
