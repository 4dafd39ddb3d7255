/**
 * sync-gateway token --sub USER [--admin] [--expires 30d] [--data-dir DIR] [--jwt-secret S]
 *
 * Mints a token the gateway accepts: signed with --jwt-secret / JWT_SECRET, else with
 * development mode's secret in the data directory (the one a gateway started there without
 * JWT_SECRET uses).
 */
import { Command, Option } from 'commander';
import { mintToken } from './auth/jwt.js';
import { EnvOption, optionValue, stringValue } from './cli-options.js';
import { ConfigError } from './config.js';
import { loadOrCreateDevSecret } from './server/dev-secret.js';

/** The token command's options, each with its variable and default shown in --help. */
export function addTokenOptions(command: Command): Command {
  return command
    .addOption(
      new EnvOption(
        '--sub <user>',
        "the user's id (the token's sub); required",
      ).makeOptionMandatory(),
    )
    .addOption(new Option('--admin', 'with the admin role: sees and manages every session'))
    .addOption(
      new EnvOption('--expires <span>', 'how long it is valid: 30d, 12h, 90m, 3600s', {
        default: '30d',
      }),
    )
    .addOption(
      new EnvOption(
        '--data-dir <dir>',
        "the gateway's data directory, where development mode keeps its secret",
        { env: 'DATA_DIR', default: './data' },
      ),
    )
    .addOption(
      new EnvOption('--jwt-secret <secret>', "the gateway's HS256 secret", {
        env: 'JWT_SECRET',
        default: "development mode's, in the data directory",
      }),
    );
}

/** A token for the options of a parsed token command, over `env`; throws ConfigError. */
export async function tokenFromOptions(command: Command, env: NodeJS.ProcessEnv): Promise<string> {
  const sub = stringValue(command, 'sub', env)!;
  if (sub.startsWith('__'))
    throw new ConfigError('--sub: user ids starting with "__" are reserved');
  const given = stringValue(command, 'jwtSecret', env);
  if (given !== undefined && given.length < 32) {
    throw new ConfigError('--jwt-secret / JWT_SECRET: must be at least 32 characters for HS256');
  }
  const secret = given ?? loadOrCreateDevSecret(stringValue(command, 'dataDir', env) ?? './data');
  const roles = optionValue(command, 'admin', env) ? ['admin'] : [];
  const expires = stringValue(command, 'expires', env) ?? '30d';
  try {
    return await mintToken(secret, sub, roles, expires);
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    throw new ConfigError(`--expires: "${expires}" is not a time span such as 30d, 12h or 90m`);
  }
}
