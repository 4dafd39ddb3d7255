/**
 * One wait: resolves when a condition holds, re-checked on every update, and fails with
 * CANCELLED (its token fired, or its caller went away) or TIMEOUT. However it ends, it
 * leaves no timer, listener or subscription behind.
 */
import type { Clock } from '../clock.js';
import { badInput, SyncError } from '../errors.js';
import type { CancellationTokens } from './cancellation.js';

export interface WaitOptions {
  owner: string;
  cancellationToken?: string | null;
  timeoutMs?: number | null;
  signal?: AbortSignal;
}

export interface WaitDeps {
  clock: Clock;
  tokens: CancellationTokens;
}

const MAX_TIMEOUT_MS = 24 * 60 * 60 * 1000;

/** Fails the wait on token, timeout or abort; returns the undo functions. */
function armFailures(
  deps: WaitDeps,
  options: WaitOptions,
  fail: (e: SyncError) => void,
): (() => void)[] {
  const undo: (() => void)[] = [];
  if (options.cancellationToken) {
    undo.push(deps.tokens.hold(options.owner, options.cancellationToken, fail));
  }
  if (options.timeoutMs != null) {
    const ms = options.timeoutMs;
    undo.push(
      deps.clock.setTimer(ms, () => fail(new SyncError('TIMEOUT', `timed out after ${ms} ms`))),
    );
  }
  const signal = options.signal;
  if (signal) {
    const onAbort = () => fail(new SyncError('CANCELLED', 'the request was aborted'));
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort);
    undo.push(() => signal.removeEventListener('abort', onAbort));
  }
  return undo;
}

async function watch(
  check: () => Promise<boolean>,
  updates: AsyncGenerator<unknown>,
): Promise<void> {
  if (await check()) return;
  for await (const _ of updates) if (await check()) return;
}

export function validateTimeout(timeoutMs: number | null | undefined): void {
  if (timeoutMs == null) return;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 0 || timeoutMs > MAX_TIMEOUT_MS) {
    throw badInput(
      'timeoutMs',
      `must be a whole number of milliseconds from 0 to ${MAX_TIMEOUT_MS}`,
    );
  }
}

/** Resolves once `check()` is true; `updates` says when to check again. */
export async function waitUntil(
  deps: WaitDeps,
  check: () => Promise<boolean>,
  updates: (signal: AbortSignal) => AsyncGenerator<unknown>,
  options: WaitOptions,
): Promise<void> {
  validateTimeout(options.timeoutMs);
  const controller = new AbortController();
  let undo: (() => void)[] = [];
  const failed = new Promise<never>((_, reject) => {
    undo = armFailures(deps, options, (error) => {
      reject(error);
      controller.abort();
    });
  });
  failed.catch(() => undefined);
  try {
    const watching = watch(check, updates(controller.signal));
    watching.catch(() => undefined);
    await Promise.race([watching, failed]);
  } finally {
    controller.abort();
    for (const f of undo) f();
  }
}
