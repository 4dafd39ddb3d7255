/**
 * Client reset, in the modes of Realm's platform, chosen when the database is opened:
 *
 *   recoverUnsyncedChanges ──▶ keep the unsynced changesets, stamped anew so they win, and
 *                              replay them on a fresh copy (onBefore failing: manual)
 *   discardUnsyncedChanges ──▶ drop them; a fresh copy
 *   recoverOrDiscardUnsyncedChanges (default) ──▶ recover; if recovery fails, discard
 *   manual ──▶ sync stops; `onManual(error)` gets the error, whose `performReset(mode)` runs
 *              one of the automatic modes when the app is ready
 *
 * A fresh copy is a bootstrap that replaces the synced documents; `onAfter` runs once it is
 * complete, with the documents before and after.
 */
import type { ClientResetError } from './errors.js';
import type { LocalDatabase, LocalSnapshot } from './local-database.js';

export type ClientResetMode =
  | 'recoverUnsyncedChanges'
  | 'discardUnsyncedChanges'
  | 'recoverOrDiscardUnsyncedChanges'
  | 'manual';

/** What a reset did: recovered the unsynced changes, or discarded them. */
export type ClientResetOutcome = 'recoverUnsyncedChanges' | 'discardUnsyncedChanges';

export interface ClientResetConfig {
  mode: ClientResetMode;
  /** Before anything changes, with the documents as they are. */
  onBefore?: (before: LocalSnapshot) => void | Promise<void>;
  /** Once the fresh copy is complete. */
  onAfter?: (result: {
    mode: ClientResetOutcome;
    before: LocalSnapshot;
    after: LocalSnapshot;
  }) => void | Promise<void>;
  /** The manual mode (and the fallback of a failed recovery): the app decides. */
  onManual?: (error: ClientResetError) => void;
}

export const DEFAULT_CLIENT_RESET: ClientResetConfig = { mode: 'recoverOrDiscardUnsyncedChanges' };

export interface ResetHost {
  db: LocalDatabase;
  config: ClientResetConfig;
  /** Opens the session again; resolves with the gateway's last integrated client version. */
  reopen(): Promise<number>;
  /** Resolves once a bootstrap is complete. */
  bootstrapped(): Promise<void>;
  report(error: unknown): void;
}

/**
 * Runs one reset in an automatic mode; resolves once syncing can start again (the fresh copy
 * follows), or with 'manual' when the app must decide.
 */
export async function runClientReset(
  host: ResetHost,
  mode: Exclude<ClientResetMode, 'manual'>,
): Promise<ClientResetOutcome | 'manual'> {
  const before = host.db.copy();
  let outcome: ClientResetOutcome =
    mode === 'discardUnsyncedChanges' ? 'discardUnsyncedChanges' : 'recoverUnsyncedChanges';
  try {
    await host.config.onBefore?.(before);
  } catch (error) {
    host.report(error);
    if (mode === 'recoverUnsyncedChanges') return 'manual';
    outcome = 'discardUnsyncedChanges';
  }
  await host.db.prepareReset(outcome === 'discardUnsyncedChanges');
  await host.db.alignWith(await host.reopen());
  void afterFreshCopy(host, outcome, before);
  return outcome;
}

async function afterFreshCopy(host: ResetHost, mode: ClientResetOutcome, before: LocalSnapshot) {
  try {
    await host.bootstrapped();
    await host.config.onAfter?.({ mode, before, after: host.db.copy() });
  } catch (error) {
    host.report(error);
  }
}
