/**
 * The gateway's own subscriptions on a socket (the root fields of shared-execution.ts),
 * subscribed without envelop. Through envelop every open subscription's stream is wrapped
 * in an iterator per kind of hook (results, errors) and per plugin hooking them, each with
 * its closures, for as long as it is open. Their operations are parsed, validated and given
 * their context by envelop as every other (ws.ts); what the plugins then do at subscribe
 * time is done here, in their order:
 * - while the gateway shuts down, refused with SHUTTING_DOWN and nothing else
 *   (request-guards.ts; that plugin ends the chain before the others hook the result);
 * - a refused subscribe (a result, not a stream): its variable-coercion errors coded
 *   (error-codes.ts), then every error masked (mask-errors.ts, as Yoga's masking plugin);
 * - each event's result: its errors masked;
 * - a stream that fails: its error masked, unless it is an abort (Yoga passes those on;
 *   none of these streams throws one: they end on their signal).
 * An error is masked (and counted) once, however many subscribers share it, as Yoga's own
 * masking does. A refused variable is coded as every refusal on a socket is, without Yoga's
 * HTTP extension (as `changes` always was; the three other fields had `extensions.http`
 * from Yoga's executor until they came here). The limits plugin's subscribe check is of
 * uploads over HTTP, which a socket subscription never is.
 * test/direct-subscriptions.test.ts holds the output to Yoga's own over HTTP.
 */
import {
  createSourceEventStream,
  type ExecutionArgs,
  type GraphQLError,
  type ExecutionResult,
  type OperationDefinitionNode,
} from 'graphql';
import { codeVariableErrors } from './error-codes.js';
import { MASKED_MESSAGE, type MaskError } from './mask-errors.js';
import { isPromise } from './maybe-promise.js';
import { shuttingDownError } from './request-guards.js';
import { executeEvent, sharingKey } from './shared-execution.js';

/** An abort or a timeout, which Yoga never masks (its own test, which it does not export). */
function isAbortError(error: unknown): boolean {
  return (
    error instanceof DOMException && (error.name === 'AbortError' || error.name === 'TimeoutError')
  );
}

export class DirectSubscriptions {
  private readonly maskedErrors = new WeakSet<object>();

  constructor(
    private readonly closing: () => boolean,
    private readonly maskError: MaskError,
  ) {}

  async subscribe(
    args: ExecutionArgs,
    operation: OperationDefinitionNode,
  ): Promise<ExecutionResult | AsyncGenerator<ExecutionResult>> {
    if (this.closing()) return { errors: [shuttingDownError()] };
    const source = await createSourceEventStream(args);
    if (!(Symbol.asyncIterator in source)) return this.masked(codeVariableErrors(source) ?? source);
    return new DirectStream(
      source[Symbol.asyncIterator](),
      args,
      sharingKey(args, operation),
      this,
    );
  }

  /** The result with its errors masked (a masked one is an Error that serializes as one). */
  masked(result: ExecutionResult): ExecutionResult {
    if (result.errors == null) return result;
    const errors = result.errors.map((e) => this.maskOnce(e));
    return { ...result, errors: errors as GraphQLError[] };
  }

  failure(error: unknown): unknown {
    return isAbortError(error) ? error : this.maskOnce(error);
  }

  /** As Yoga's wrapper of the masker: an error it gave, or passed, is not masked again. */
  private maskOnce(error: unknown): unknown {
    if (typeof error === 'object' && error !== null && this.maskedErrors.has(error)) return error;
    const masked = this.maskError(error, MASKED_MESSAGE);
    this.maskedErrors.add(masked);
    return masked;
  }
}

/**
 * A subscription's results: each event of `source` executed (or its shared result taken),
 * masked. `return()` reaches the source at once, even while it waits for its next event
 * (an async generator would wait for that event first). A class: no closures per stream.
 */
class DirectStream implements AsyncGenerator<ExecutionResult, void> {
  constructor(
    private readonly source: AsyncIterator<unknown>,
    private readonly args: ExecutionArgs,
    private readonly key: string | null,
    private readonly direct: DirectSubscriptions,
  ) {}

  // Not async: a waiting subscription holds a promise and its reaction, not a suspended frame.
  next(): Promise<IteratorResult<ExecutionResult, void>> {
    return this.source.next().then(
      (step) => this.resultOf(step),
      (error: unknown) => {
        throw this.direct.failure(error);
      },
    );
  }

  /** The event's result; at once when its execution is (no async step of its own then). */
  private resultOf(
    step: IteratorResult<unknown>,
  ): IteratorResult<ExecutionResult, void> | Promise<IteratorResult<ExecutionResult, void>> {
    if (step.done) return { done: true, value: undefined };
    try {
      const result = executeEvent(this.args, this.key, step.value);
      if (!isPromise(result)) return this.delivered(result);
      return result.then((r) => this.delivered(r)).catch((error: unknown) => this.failed(error));
    } catch (error) {
      return this.failed(error);
    }
  }

  private delivered(result: ExecutionResult): IteratorResult<ExecutionResult, void> {
    return { done: false, value: this.direct.masked(result) };
  }

  /**
   * graphql-ws does not end a stream whose next() rejects: ends the source here (its own
   * failure to end is not the subscriber's to see: the event's is).
   */
  private async failed(error: unknown): Promise<never> {
    await this.source.return?.().catch(() => undefined);
    throw this.direct.failure(error);
  }

  async return(): Promise<IteratorResult<ExecutionResult, void>> {
    await this.source.return?.();
    return { done: true, value: undefined };
  }

  async throw(error: unknown): Promise<IteratorResult<ExecutionResult, void>> {
    await this.return();
    throw error;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
