#!/usr/bin/env node
/**
 * sync-gateway [start] [--port N] [--data-dir DIR] [--jwt-secret S] [--rules FILE] ...
 * sync-gateway token --sub USER [--admin] [--expires 30d] [--data-dir DIR] [--jwt-secret S]
 * sync-gateway migrate [--from SQLITE_FILE] [--to MONGODB_URI] [--db NAME]
 * sync-gateway types [--rules FILE] [--out FILE]
 *
 * One parser (commander, cli-program.ts) for every command; `--help` and `--version` on each.
 * A failure the user can fix is one line on stderr and exit code 1; anything else, the whole
 * error.
 */
import { cliProgram, withDefaultCommand } from './cli-program.js';
import { StartError } from './cli-start.js';
import { ConfigError } from './config.js';

/** One clear line for the failures a user can fix; the whole error otherwise. */
async function describeFailure(error: unknown): Promise<unknown> {
  if (error instanceof ConfigError) return `configuration error: ${error.message}`;
  if (error instanceof StartError) return error.message;
  if (error instanceof Error && error.name.startsWith('Mongo')) {
    return `cannot use MongoDB (${error.name}): ${error.message}`;
  }
  const [{ REPLICA_SET_REQUIRED }, { MigrationError }] = await Promise.all([
    import('./store/mongodb/mongo-store.js'),
    import('./store/migrate.js'),
  ]);
  if (error instanceof Error && error.message === REPLICA_SET_REQUIRED) return error.message;
  if (error instanceof MigrationError) return `cannot migrate: ${error.message}`;
  return error;
}

cliProgram()
  .parseAsync(withDefaultCommand(process.argv.slice(2)), { from: 'user' })
  .catch(async (error: unknown) => {
    console.error(await describeFailure(error));
    process.exit(1);
  });
