/**
 * What every command's options share (commander 14): an option may also come from an
 * environment variable, and --help shows the variable and the default beside it. The
 * variable is read from the environment a command is given (not by commander from
 * process.env), so `loadConfig(argv, env)` and tests can pass their own.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, Help, Option } from 'commander';

export interface OptionSource {
  /** The environment variable it may come from. */
  env?: string;
  /** The default as --help shows it (the value itself is decided by the command). */
  default?: string;
}

export class EnvOption extends Option {
  readonly variable: string | undefined;
  readonly shownDefault: string | undefined;

  constructor(flags: string, description: string, source: OptionSource = {}) {
    super(flags, description);
    this.variable = source.env;
    this.shownDefault = source.default;
  }
}

/** `(env: PORT, default: 4000)` after an EnvOption's description; commander's text otherwise. */
function optionDescription(this: Help, option: Option): string {
  if (!(option instanceof EnvOption)) return Help.prototype.optionDescription.call(this, option);
  const extra = [
    ...(option.variable ? [`env: ${option.variable}`] : []),
    ...(option.shownDefault !== undefined ? [`default: ${option.shownDefault}`] : []),
  ];
  return extra.length ? `${option.description} (${extra.join(', ')})` : option.description;
}

/** The package's version, from package.json (beside src/ and dist/ alike). */
export function packageVersion(): string {
  // A path, not a URL object: a test environment (happy-dom) may replace the global URL.
  const file = join(dirname(fileURLToPath(import.meta.url)), '..', 'package.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

/** A command with --help, --version and the env-aware option help. */
export function newCommand(name: string): Command {
  return new Command(name)
    .version(packageVersion(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'print this help')
    .configureHelp({ optionDescription, showGlobalOptions: false, sortOptions: false })
    .showSuggestionAfterError(true);
}

/** The option's value from the command line, else from its variable (empty counts as unset). */
export function optionValue(
  command: Command,
  name: string,
  env: NodeJS.ProcessEnv,
): string | boolean | undefined {
  const option = command.options.find((o) => o.attributeName() === name);
  if (!option) throw new Error(`no option ${name}`);
  const given = command.getOptionValue(name) as string | boolean | undefined;
  if (given !== undefined && given !== '') return given;
  const variable =
    option instanceof EnvOption && option.variable ? env[option.variable] : undefined;
  return variable === '' ? undefined : variable;
}

/** A string option's value (see optionValue). */
export function stringValue(
  command: Command,
  name: string,
  env: NodeJS.ProcessEnv,
): string | undefined {
  const value = optionValue(command, name, env);
  return value === undefined ? undefined : String(value);
}

/** Commander's message as a sentence: "Unknown option '--bogus'" (no "error: " prefix). */
export function commanderMessage(error: CommanderError): string {
  const message = error.message.replace(/^error: /, '');
  return message.charAt(0).toUpperCase() + message.slice(1);
}

/**
 * Parses `argv` (the arguments after the command's name) with a command that prints
 * nothing and exits nothing: a bad argument throws `wrap(message)`. For the functions that
 * take an argv (loadConfig, parseMigrateArgs); the CLI itself lets commander report.
 */
export function parseQuietly(
  command: Command,
  argv: readonly string[],
  wrap: (message: string) => Error,
): Command {
  command
    .helpOption(false)
    .exitOverride()
    .configureOutput({ writeOut: () => {}, writeErr: () => {}, outputError: () => {} });
  try {
    command.parse([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) throw wrap(commanderMessage(error));
    throw error;
  }
  return command;
}
