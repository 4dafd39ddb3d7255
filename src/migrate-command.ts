/**
 * sync-gateway migrate [--from FILE] [--to URI] [--db NAME]
 *
 * Copies a deployment from its SQLite file into a MongoDB replica set, with a progress bar.
 * Defaults follow the gateway's own settings: --from is SQLITE_FILE or DATA_DIR/gateway.sqlite,
 * --to is MONGODB_URI, --db is MONGODB_DB or sync_gateway.
 */
import { SingleBar } from 'cli-progress';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from './config.js';
import { migrate, type MigrationProgress, type MigrationReport } from './store/migrate.js';
import { MongoImport } from './store/mongodb/mongo-import.js';
import { SqliteSource } from './store/sqlite/sqlite-source.js';

interface MigrateArgs {
  from: string;
  to: string;
  db: string;
}

export function parseMigrateArgs(argv: string[], env: NodeJS.ProcessEnv): MigrateArgs {
  const { values } = parseArgs({
    args: argv,
    options: {
      from: { type: 'string' },
      to: { type: 'string' },
      db: { type: 'string' },
      'data-dir': { type: 'string' },
    },
  });
  const dataDir = values['data-dir'] ?? env.DATA_DIR ?? './data';
  const from = values.from ?? env.SQLITE_FILE ?? join(dataDir, 'gateway.sqlite');
  const to = values.to ?? env.MONGODB_URI;
  if (!to?.match(/^mongodb(\+srv)?:\/\//)) {
    throw new ConfigError('--to / MONGODB_URI: the mongodb:// or mongodb+srv:// URI to copy into');
  }
  return { from, to, db: values.db ?? env.MONGODB_DB ?? 'sync_gateway' };
}

/** One bar over all rows; the stage being copied shown beside it. */
function progressBar(totalRows: () => number) {
  const bar = new SingleBar({
    format: 'copying {stage} [{bar}] {percentage}% | {value}/{total} rows',
    hideCursor: true,
  });
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

export async function migrateCommand(argv: string[]): Promise<void> {
  const args = parseMigrateArgs(argv, process.env);
  const source = SqliteSource.open(args.from);
  try {
    const counts = await source.counts();
    const target = await MongoImport.connect(args.to, args.db);
    const bar = progressBar(() => counts.sessions + counts.documents + counts.history);
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
