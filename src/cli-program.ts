/**
 * The CLI's commands on commander: `start` (the default), `token`, `migrate`, `types`, each
 * with --help (its options, their variables and defaults) and --version. Each command's
 * heavy modules load only when it runs. Run as
 * `cliProgram().parseAsync(withDefaultCommand(args), { from: 'user' })`.
 */
import type { Command } from 'commander';
import { newCommand } from './cli-options.js';
import { startFromOptions } from './cli-start.js';
import { addTokenOptions, tokenFromOptions } from './cli-token.js';
import { addSettingOptions } from './config.js';
import { addMigrateOptions, migrateArgs, migrateCommand } from './migrate-command.js';
import { addTypesOptions, typesArgs, typesCommand } from './types-command.js';

export function cliProgram(env: NodeJS.ProcessEnv = process.env): Command {
  const start = addSettingOptions(newCommand('start'))
    .summary('start the gateway (the default command)')
    .description(
      'Starts the gateway. Every setting is a flag or an environment variable; a flag wins. ' +
        'Without JWT_SECRET it runs in development mode and prints how to mint tokens.',
    )
    .action((_options: unknown, command: Command) => startFromOptions(command, env));

  const token = addTokenOptions(newCommand('token'))
    .summary('mint a token for a user')
    .description(
      "Prints a token for --sub, signed with JWT_SECRET, else with development mode's " +
        'secret in the data directory (use the --data-dir the gateway runs with).',
    )
    .action(async (_options: unknown, command: Command) => {
      console.log(await tokenFromOptions(command, env));
    });

  const migrate = addMigrateOptions(newCommand('migrate'))
    .summary('copy a SQLite deployment into MongoDB')
    .description(
      "Copies the gateway's SQLite file into an empty MongoDB database, with a progress bar. " +
        'Stop the gateway first; run the same command again to resume an interrupted copy.',
    )
    .action((_options: unknown, command: Command) => migrateCommand(migrateArgs(command, env)));

  const types = addTypesOptions(newCommand('types'))
    .summary('print TypeScript types of the collections with a schema')
    .description(
      'Prints an interface per collection with a schema in the rules file, and Collections, ' +
        'for openSyncedDatabase<Collections>(...).',
    )
    .action((_options: unknown, command: Command) => typesCommand(typesArgs(command, env)));

  return newCommand('sync-gateway')
    .description('GraphQL sync gateway for offline-first apps, on SQLite or MongoDB.')
    .addCommand(start)
    .addCommand(token)
    .addCommand(migrate)
    .addCommand(types)
    .addHelpText(
      'after',
      '\nWithout a command it starts the gateway: "sync-gateway --port 5000" is\n' +
        '"sync-gateway start --port 5000". "sync-gateway start --help" lists every setting.',
    );
}

const PROGRAM_OPTIONS = ['-h', '--help', '-V', '--version'];

/** The arguments with `start` put first when they name no command (`--port 5000`, nothing). */
export function withDefaultCommand(args: readonly string[]): string[] {
  const first = args[0];
  const implicit =
    first === undefined || (first.startsWith('-') && !PROGRAM_OPTIONS.includes(first));
  return implicit ? ['start', ...args] : [...args];
}
