/**
 * Error exposure: a SyncError keeps its message and shows its code in
 * `extensions.code`; any other error is masked (and logged) by Yoga's default rule.
 */
import { GraphQLError } from 'graphql';
import { maskError as yogaMaskError, type YogaServerOptions } from 'graphql-yoga';
import type { Logger } from 'pino';
import { SyncError } from '../errors.js';

type MaskError = NonNullable<
  Exclude<YogaServerOptions<object, object>['maskedErrors'], boolean | undefined>['maskError']
>;

export function syncErrorMasker(logger: Logger): MaskError {
  return (error, message, isDev) => {
    const original = error instanceof GraphQLError ? error.originalError : error;
    if (original instanceof SyncError) {
      const gql = error instanceof GraphQLError ? error : undefined;
      return new GraphQLError(original.message, {
        nodes: gql?.nodes,
        path: gql?.path,
        originalError: original,
        extensions: { code: original.code, ...(original.field ? { field: original.field } : {}) },
      });
    }
    if (
      error instanceof GraphQLError &&
      (!error.originalError || error.originalError instanceof GraphQLError)
    ) {
      return error;
    }
    logger.error({ err: original }, 'unexpected error in a GraphQL operation');
    return yogaMaskError(error, message, isDev);
  };
}
