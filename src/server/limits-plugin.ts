/**
 * The limits of limits.ts on Yoga's HTTP path, as one plugin:
 *
 * - every HTTP GraphQL request takes one operation from its user's budget before it is
 *   parsed (the token is verified here for the key; a bad one is counted by address and
 *   answered 401 later by the context, as before): a refusal is status 429 with
 *   `Retry-After` and LIMIT_EXCEEDED with `extensions.retryAfterMs`;
 * - an `uploadChanges` with more changesets than the cap is refused before execution, so
 *   before GraphQL coerces its input (the socket path checks this itself, in ws.ts);
 * - every operation's context carries the changeset limiter for resolvers/upload.ts.
 *
 * graphql-ws operations also run through Yoga's envelop, but the socket counts its own
 * operations (ws.ts), so this plugin leaves them alone apart from the context.
 */
import type { IncomingMessage } from 'node:http';
import type { Plugin } from 'graphql-yoga';
import type { Authenticator } from '../auth/authenticator.js';
import type { ChangesetLimitContext } from '../resolvers/upload.js';
import { requestViewer } from './request-viewer.js';
import { callerKey, checkUploadSize, takeOperation, type GatewayLimits } from './limits.js';

/** The request's viewer for its budget's key; a bad token counts by address. */
const budgetViewer = (auth: Authenticator, request: Request) =>
  requestViewer(auth, request).catch(() => null);

const fromSocket = (context: unknown) =>
  typeof context === 'object' && context !== null && 'socket' in context && !!context.socket;

export function useGatewayLimits(limits: GatewayLimits, auth: Authenticator): Plugin {
  const uploadSize = (args: {
    document: Parameters<typeof checkUploadSize>[0];
    operationName?: string | null;
    variableValues?: Record<string, unknown> | null;
    contextValue: unknown;
  }) =>
    fromSocket(args.contextValue)
      ? null
      : checkUploadSize(
          args.document,
          args.operationName,
          args.variableValues,
          limits.maxChangesPerUpload,
        );
  return {
    async onParams({ request, context, setResult }) {
      if (!limits.ops) return;
      const viewer = await budgetViewer(auth, request);
      const address = (context as { req?: IncomingMessage }).req?.socket.remoteAddress;
      const refusal = takeOperation(limits, callerKey(viewer, address), true);
      if (refusal) setResult({ errors: [refusal] });
    },
    onContextBuilding({ extendContext }) {
      const extension: ChangesetLimitContext = { changesetLimiter: limits.changesets };
      extendContext(extension as Record<string, unknown>);
    },
    onExecute({ args, setResultAndStopExecution }) {
      const refusal = uploadSize(args);
      if (refusal) setResultAndStopExecution({ errors: [refusal] });
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const refusal = uploadSize(args);
      if (refusal) setResultAndStopExecution({ errors: [refusal] });
    },
  };
}
