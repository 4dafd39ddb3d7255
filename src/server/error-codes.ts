/**
 * Codes for the refusals graphql-js makes without one, so that every error carries
 * `extensions.code` over HTTP and sockets alike.
 *
 * A syntax error gets GRAPHQL_PARSE_FAILED, as Yoga gives it over HTTP.
 *
 * A variable that does not coerce (`Variable "$f" got invalid value "x"; …`, `Variable "$s"
 * of required type "ID!" was not provided.`, `Too many errors processing variables, error
 * limit reached. Execution aborted.`) refuses the whole operation, before any resolver: the
 * result has errors and no data. Such errors get BAD_USER_INPUT, as Apollo Server gives them.
 */
import { GraphQLError, Kind, type ExecutionResult } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';

const TOO_MANY_VARIABLE_ERRORS = /^Too many errors processing variables/;

/** Whether an error is graphql-js's refusal of the operation's variables. */
export function isVariableCoercionError(error: GraphQLError): boolean {
  if (error.path !== undefined) return false;
  if (TOO_MANY_VARIABLE_ERRORS.test(error.message)) return true;
  const nodes = error.nodes ?? [];
  return nodes.length > 0 && nodes.every((node) => node.kind === Kind.VARIABLE_DEFINITION);
}

/** A copy of `error` with other extensions (a new error: graphql-js's may be cached). */
export function withExtensions(
  error: GraphQLError,
  extensions: GraphQLError['extensions'],
): GraphQLError {
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    source: error.nodes ? undefined : error.source,
    positions: error.nodes ? undefined : error.positions,
    path: error.path,
    originalError: error.originalError,
    extensions,
  });
}

/** `error` with `code` added to its extensions. */
export const withCode = (error: GraphQLError, code: string): GraphQLError =>
  withExtensions(error, { ...error.extensions, code });

/** The result with its variable-coercion errors coded BAD_USER_INPUT; null when none is. */
export function codeVariableErrors(result: ExecutionResult): ExecutionResult | null {
  if ('data' in result || !result.errors?.length) return null;
  let changed = false;
  const errors = result.errors.map((error) => {
    if (error.extensions?.code !== undefined || !isVariableCoercionError(error)) return error;
    changed = true;
    return withCode(error, 'BAD_USER_INPUT');
  });
  return changed ? { ...result, errors } : null;
}

/**
 * A syntax error gets GRAPHQL_PARSE_FAILED (and Yoga's HTTP status, 400 unless the client
 * accepts application/json), as Yoga gives it, but on every transport: Yoga codes it only
 * for an HTTP request, and caches the error it throws, thrown again as is for the same text
 * whichever transport brings it (the cache's hit skips every other plugin's hooks). The
 * error is changed in place, as Yoga does, so the cached one carries the code too.
 */
function codeParseError({ result }: { result: unknown }): void {
  if (!(result instanceof GraphQLError)) return;
  const extensions = ((result as { extensions: Record<string, unknown> }).extensions ??= {});
  extensions.code ??= 'GRAPHQL_PARSE_FAILED';
  const http = (extensions.http ??= {}) as Record<string, unknown>;
  http.spec ??= true;
  http.status ??= 400;
}

/**
 * graphql-js's validation can throw instead of reporting: its single-field-subscriptions
 * rule collects fields, and a `@skip` or `@include` without `if` then throws "Argument "if"
 * ... was not provided". The throw becomes the validation's error (coded as every other).
 */
function validatedOrRefused<A extends unknown[]>(
  validate: (...args: A) => readonly GraphQLError[],
  args: A,
): readonly GraphQLError[] {
  try {
    return validate(...args);
  } catch (error) {
    if (error instanceof GraphQLError) return [error];
    throw error;
  }
}

/**
 * Codes for graphql-js's uncoded refusals: syntax errors (GRAPHQL_PARSE_FAILED) and
 * variable-coercion errors of executions and subscriptions (BAD_USER_INPUT); and a
 * validation that throws is made the validation's error (coded as every other).
 */
export function useErrorCodes(): Plugin {
  const done = (payload: {
    result: unknown;
    setResult: (result: ExecutionResult) => void;
  }): void => {
    const result = payload.result;
    if (typeof result !== 'object' || result === null || isAsyncIterable(result)) return;
    const coded = codeVariableErrors(result as ExecutionResult);
    if (coded) payload.setResult(coded);
  };
  return {
    onParse: () => codeParseError,
    onValidate: ({ validateFn, setValidationFn }) =>
      setValidationFn((...args) => validatedOrRefused(validateFn, args)),
    onExecute: () => ({ onExecuteDone: done }),
    onSubscribe: () => ({ onSubscribeResult: done }),
  };
}
