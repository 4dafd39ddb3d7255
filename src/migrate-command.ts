/**
 * sync-gateway migrate [--from FILE] [--to URI] [--db NAME] [--data-dir DIR]
 *
 * Copies a deployment from its SQLite file into a MongoDB replica set, with a progress bar.
 * Defaults follow the gateway's own settings: --from is SQLITE_FILE or DATA_DIR/gateway.sqlite,
 * --to is MONGODB_URI, --db is MONGODB_DB or sync_gateway. The store modules load only when
 * the command runs, so `sync-gateway --help` stays quick.
 */
import type { SingleBar } from 'cli-progress';
import { Command } from 'commander';
import { join } from 'node:path';
import { EnvOption, parseQuietly, stringValue } from './cli-options.js';
import { ConfigError } from './config.js';
import type { MigrationProgress, MigrationReport } from './store/migrate.js';

export interface MigrateArgs {
  from: string;
  to: string;
  db: string;
}

/** The migrate command's options, each with its variable and default shown in --help. */
export function addMigrateOptions(command: Command): Command {
  return command
    .addOption(
      new EnvOption('--from <file>', 'the SQLite file to copy', {
        env: 'SQLITE_FILE',
        default: 'DATA_DIR/gateway.sqlite',
      }),
    )
    .addOption(
      new EnvOption('--to <uri>', 'the MongoDB replica set to copy into (mongodb://...)', {
        env: 'MONGODB_URI',
      }),
    )
    .addOption(
      new EnvOption('--db <name>', 'the database to copy into (must be empty)', {
        env: 'MONGODB_DB',
        default: 'sync_gateway',
      }),
    )
    .addOption(
      new EnvOption('--data-dir <dir>', "the gateway's data directory, for the default --from", {
        env: 'DATA_DIR',
        default: './data',
      }),
    );
}

/** The arguments of a parsed migrate command, over `env`; throws ConfigError without a URI. */
export function migrateArgs(command: Command, env: NodeJS.ProcessEnv): MigrateArgs {
  const dataDir = stringValue(command, 'dataDir', env) ?? './data';
  const from = stringValue(command, 'from', env) ?? join(dataDir, 'gateway.sqlite');
  const to = stringValue(command, 'to', env);
  if (!to?.match(/^mongodb(\+srv)?:\/\//)) {
    throw new ConfigError('--to / MONGODB_URI: the mongodb:// or mongodb+srv:// URI to copy into');
  }
  return { from, to, db: stringValue(command, 'db', env) ?? 'sync_gateway' };
}

/** `migrate`'s arguments (after the command's name) over `env`; throws ConfigError. */
export function parseMigrateArgs(argv: string[], env: NodeJS.ProcessEnv): MigrateArgs {
  const command = addMigrateOptions(new Command('migrate'));
  parseQuietly(command, argv, (message) => new ConfigError(message));
  return migrateArgs(command, env);
}

/** One bar over all rows; the stage being copied shown beside it. */
function progressBar(bar: SingleBar, totalRows: () => number) {
  let started = false;
  const doneBefore = { sessions: 0, documents: 0, history: 0 };
  const order = ['sessions', 'documents', 'history'] as const;
  const report = (p: MigrationProgress) => {
    const before = order.slice(0, order.indexOf(p.stage)).reduce((n, s) => n + doneBefore[s], 0);
    doneBefore[p.stage] = p.done;
    if (!started) bar.start(totalRows(), 0, { stage: p.stage });
    started = true;
    bar.update(before + p.done, { stage: p.stage });
  };
  return { report, stop: () => bar.stop() };
}

const summary = (r: MigrationReport, args: MigrateArgs) =>
  `${r.start === 'resumed' ? 'finished the interrupted copy' : 'copied'} ` +
  `${r.copied.sessions} sessions, ${r.copied.documents} documents and ${r.copied.history} ` +
  `history entries into database "${args.db}" (last server version ${r.lastVersion}). ` +
  'Start the gateways with MONGODB_URI set and the same JWT_SECRET.';

export async function migrateCommand(args: MigrateArgs): Promise<void> {
  const [{ SingleBar }, { migrate }, { MongoImport }, { SqliteSource }] = await Promise.all([
    import('cli-progress'),
    import('./store/migrate.js'),
    import('./store/mongodb/mongo-import.js'),
    import('./store/sqlite/sqlite-source.js'),
  ]);
  const source = SqliteSource.open(args.from);
  try {
    const counts = await source.counts();
    const target = await MongoImport.connect(args.to, args.db);
    const bar = progressBar(
      new SingleBar({
        format: 'copying {stage} [{bar}] {percentage}% | {value}/{total} rows',
        hideCursor: true,
      }),
      () => counts.sessions + counts.documents + counts.history,
    );
    try {
      const report = await migrate(source, target, { onProgress: bar.report });
      bar.stop();
      console.log(summary(report, args));
    } finally {
      bar.stop();
      await target.close();
    }
  } finally {
    source.close();
  }
}
