/**
 * sync-gateway types [--rules FILE] [--out FILE]
 *
 * Prints TypeScript declarations for the collections that have a schema in the rules file
 * (--rules, else RULES_FILE), to --out or stdout.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { collectionTypes } from './collection-types.js';
import { ConfigError } from './config.js';
import { loadRules } from './sync/permissions.js';

interface TypesArgs {
  rules: string;
  out: string | null;
}

export function parseTypesArgs(argv: string[], env: NodeJS.ProcessEnv): TypesArgs {
  const { values } = parseArgs({
    args: argv,
    options: { rules: { type: 'string' }, out: { type: 'string' } },
  });
  const rules = values.rules ?? env.RULES_FILE;
  if (!rules) throw new ConfigError('--rules / RULES_FILE: the rules file whose schemas to type');
  return { rules, out: values.out ?? null };
}

export async function typesCommand(argv: string[]): Promise<void> {
  const args = parseTypesArgs(argv, process.env);
  let declarations: string;
  try {
    declarations = await collectionTypes(loadRules(args.rules));
  } catch (error) {
    throw new ConfigError(`--rules / RULES_FILE: ${(error as Error).message}`);
  }
  if (args.out) writeFileSync(args.out, declarations);
  else process.stdout.write(declarations);
}
