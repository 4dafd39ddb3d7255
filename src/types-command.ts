/**
 * sync-gateway types [--rules FILE] [--out FILE]
 *
 * Prints TypeScript declarations for the collections that have a schema in the rules file
 * (--rules, else RULES_FILE), to --out or stdout. json-schema-to-typescript (and prettier)
 * load only when the command runs: they would slow every gateway start.
 */
import { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { EnvOption, parseQuietly, stringValue } from './cli-options.js';
import { ConfigError } from './config.js';

export interface TypesArgs {
  rules: string;
  out: string | null;
}

/** The types command's options, each with its variable and default shown in --help. */
export function addTypesOptions(command: Command): Command {
  return command
    .addOption(
      new EnvOption('--rules <file>', 'the rules file whose collection schemas to type', {
        env: 'RULES_FILE',
      }),
    )
    .addOption(new EnvOption('--out <file>', 'where to write them', { default: 'stdout' }));
}

/** The arguments of a parsed types command, over `env`; throws ConfigError without rules. */
export function typesArgs(command: Command, env: NodeJS.ProcessEnv): TypesArgs {
  const rules = stringValue(command, 'rules', env);
  if (!rules) throw new ConfigError('--rules / RULES_FILE: the rules file whose schemas to type');
  return { rules, out: stringValue(command, 'out', env) ?? null };
}

/** `types`' arguments (after the command's name) over `env`; throws ConfigError. */
export function parseTypesArgs(argv: string[], env: NodeJS.ProcessEnv): TypesArgs {
  const command = addTypesOptions(new Command('types'));
  parseQuietly(command, argv, (message) => new ConfigError(message));
  return typesArgs(command, env);
}

export async function typesCommand(args: TypesArgs): Promise<void> {
  const [{ collectionTypes }, { loadRules }] = await Promise.all([
    import('./collection-types.js'),
    import('./sync/permissions.js'),
  ]);
  let declarations: string;
  try {
    declarations = await collectionTypes(loadRules(args.rules));
  } catch (error) {
    throw new ConfigError(`--rules / RULES_FILE: ${(error as Error).message}`);
  }
  if (args.out) writeFileSync(args.out, declarations);
  else process.stdout.write(declarations);
}
