/**
 * Error exposure: a SyncError keeps its message and shows its code in
 * `extensions.code`; any other error is masked (and logged) by Yoga's default rule.
 *
 * This is also where answered errors are observed: each is counted by code (the sink
 * the masker is made with, GatewayMetrics in a gateway), and an UNAUTHENTICATED one is
 * logged as an authentication failure (with the request id over HTTP). Yoga masks execution
 * errors (HTTP and sockets; the sockets' own subscriptions are masked with this masker by
 * direct-subscriptions.ts) and HTTP request errors (parse, context); validation errors,
 * graphql-armor's refusals included, and the refusals ws.ts answers itself never come here.
 */
import { GraphQLError } from 'graphql';
import { maskError as yogaMaskError, type YogaServerOptions } from 'graphql-yoga';
import type { Logger } from 'pino';
import { SyncError } from '../errors.js';
import { currentRequestId, withRequest } from './logging.js';

/** What a masked error says (Yoga's default, given to Yoga too). */
export const MASKED_MESSAGE = 'Unexpected error.';

export type MaskError = NonNullable<
  Exclude<YogaServerOptions<object, object>['maskedErrors'], boolean | undefined>['maskError']
>;

export interface ErrorSink {
  /** An error answered, by its `extensions.code` (undefined: it has none). */
  errorAnswered(code: unknown): void;
}

function mask(logger: Logger, ...[error, message, isDev]: Parameters<MaskError>) {
  const original = error instanceof GraphQLError ? error.originalError : error;
  if (original instanceof SyncError) {
    const gql = error instanceof GraphQLError ? error : undefined;
    // No originalError: Yoga counts an error whose originalError is not a GraphQLError as
    // unexpected, and answers a result without data (a refused subscription) with HTTP 500.
    // A SyncError is a refusal, answered as graphql-js's own are (200 for application/json).
    return new GraphQLError(original.message, {
      nodes: gql?.nodes,
      path: gql?.path,
      extensions: { code: original.code, ...(original.field ? { field: original.field } : {}) },
    });
  }
  if (
    error instanceof GraphQLError &&
    (!error.originalError || error.originalError instanceof GraphQLError)
  ) {
    return error;
  }
  logger.error(withRequest({ err: original }), 'unexpected error in a GraphQL operation');
  return yogaMaskError(error, message, isDev);
}

function observe(logger: Logger, answered: Error, sink: ErrorSink | undefined): void {
  const code = answered instanceof GraphQLError ? answered.extensions?.code : undefined;
  sink?.errorAnswered(code);
  if (code !== 'UNAUTHENTICATED') return;
  const transport = currentRequestId() ? 'http' : 'socket';
  const line = { event: 'auth.failed', transport, reason: answered.message };
  logger.warn(withRequest(line), 'authentication failed');
}

export function syncErrorMasker(logger: Logger, sink?: ErrorSink): MaskError {
  return (error, message, isDev) => {
    const answered = mask(logger, error, message, isDev);
    observe(logger, answered, sink);
    return answered;
  };
}
