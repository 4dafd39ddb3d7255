/**
 * The read and write concerns of the MongoDB store: majority reads, and majority writes
 * that give up after a timeout instead of waiting forever for a majority that is gone.
 */
import type { TransactionOptions, WriteConcernSettings } from 'mongodb';

/**
 * How long a write waits for a majority of the replica set to acknowledge it before it fails
 * with a write concern error (`wtimeout`,
 * https://www.mongodb.com/docs/manual/reference/write-concern/#wtimeout). The write is not
 * undone: it may still reach the majority later, which idempotent integration tolerates (a
 * changeset sent again is acknowledged again, not applied twice).
 *
 * `wtimeoutMS` in the write concern is the driver's documented setting for this
 * (WriteConcernSettings in the installed mongodb 7.9's mongodb.d.ts). The client-side
 * `timeoutMS` is not used: since driver 7.8 it is deprecated and has no effect
 * (https://www.mongodb.com/docs/drivers/node/upcoming/connect/connection-options/csot/,
 * https://github.com/mongodb/node-mongodb-native/releases/tag/v6.22.0).
 */
export const MAJORITY_WRITE_TIMEOUT_MS = 10_000;

/** Acknowledged once a majority has the write, journaled, or failed after the timeout. */
export const MAJORITY_WRITES = {
  w: 'majority',
  wtimeoutMS: MAJORITY_WRITE_TIMEOUT_MS,
} as const satisfies WriteConcernSettings;

/**
 * https://www.mongodb.com/docs/manual/core/transactions/#read-concern-write-concern-read-preference
 * With majority read concern a transaction's reads are majority-committed once it commits
 * with majority write concern (https://www.mongodb.com/docs/manual/reference/read-concern-majority/).
 * The commit waits for the majority at most MAJORITY_WRITE_TIMEOUT_MS per attempt; the
 * callback API (`withTransaction`) commits again after a commit whose result is unknown, as
 * a write concern timeout is
 * (https://www.mongodb.com/docs/manual/core/transactions-in-applications/#callback-api),
 * until 120 seconds have passed since it started (MAX_TIMEOUT of withTransaction in the
 * driver's src/sessions.ts), then rethrows.
 */
export const TRANSACTION: TransactionOptions = {
  readConcern: { level: 'majority' },
  writeConcern: MAJORITY_WRITES,
  readPreference: 'primary',
};
