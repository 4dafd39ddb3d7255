/**
 * Subscription events executed directly, and once for all their subscribers where the
 * result is the same.
 *
 * Direct: on a socket, the gateway's own subscription fields run as graphql-js runs a
 * subscription (its source stream, then each event executed with the operation), through
 * one small iterator of direct-subscriptions.ts, not through envelop's and the executor's
 * chains of async iterators per operation (memory every open subscription holds).
 *
 * Shared: the download stream hands the same batch object to every session whose batch is
 * the same (src/sync/batch-memo.ts); `changes` events are executed once per distinct
 * operation (document, operation name, variables), and every subscriber of that operation
 * gets the same result object, which the socket layer then serializes once
 * (src/server/shared-json.ts). Only for root fields whose results depend on the event, the
 * document and the variables alone: no resolver under them reads the context or the viewer
 * (the batch is already what this session may see).
 *
 * Every other operation executes as Yoga's executor does.
 */
import {
  execute,
  getOperationAST,
  visit,
  type ASTNode,
  type DocumentNode,
  type OperationDefinitionNode,
  type ExecutionArgs,
  type ExecutionResult,
} from 'graphql';

/** Root subscription fields executed directly. */
const DIRECT_FIELDS = new Set(['changes', 'progress', 'connectionStateChanges', 'sessionEvents']);
/** Root subscription fields executed once per event and operation. */
const SHARED_FIELDS = new Set(['changes']);

type Result = ExecutionResult | Promise<ExecutionResult>;

const onlyFields = (operation: OperationDefinitionNode, fields: Set<string>) =>
  operation.selectionSet.selections.every(
    (s) => s.kind === 'Field' && fields.has(s.name.value) && !s.directives?.length,
  );

/**
 * The operation, when it runs on a socket (over HTTP, Yoga's own executor answers a bad
 * variable with a 400 of its own) and every root field is one executed directly.
 */
export function directOperation(args: ExecutionArgs): OperationDefinitionNode | null {
  if (!(args.contextValue as { socketId?: string | null } | undefined)?.socketId) return null;
  const operation = getOperationAST(args.document, args.operationName);
  if (operation?.operation !== 'subscription') return null;
  return onlyFields(operation, DIRECT_FIELDS) ? operation : null;
}

const documentIds = new WeakMap<DocumentNode, number>();
let nextDocumentId = 0;
/** By operation: a document may hold several, each with its own variables. */
const selectionVariables = new WeakMap<OperationDefinitionNode, string[]>();

/**
 * The variables the selections below the root fields use (and any fragment's): the root
 * fields' own arguments (the session id, `since`) choose the stream, not how an event is
 * executed, so sessions that differ only by them share results.
 */
function variablesBelowRoot(document: DocumentNode, operation: OperationDefinitionNode) {
  let names = selectionVariables.get(operation);
  if (names) return names;
  const used = new Set<string>();
  const collect = (node: ASTNode) => visit(node, { Variable: (v) => void used.add(v.name.value) });
  for (const selection of operation.selectionSet.selections) {
    if (selection.kind === 'Field' && selection.selectionSet) collect(selection.selectionSet);
  }
  for (const definition of document.definitions) {
    if (definition.kind === 'FragmentDefinition') collect(definition);
  }
  names = [...used].sort();
  selectionVariables.set(operation, names);
  return names;
}

/** What, besides the event, the result depends on. */
function operationKey(args: ExecutionArgs, operation: OperationDefinitionNode): string {
  let id = documentIds.get(args.document);
  if (id === undefined) documentIds.set(args.document, (id = nextDocumentId++));
  const values = args.variableValues ?? {};
  // An omitted variable (its default applies) is not the same as one given as null.
  const used = variablesBelowRoot(args.document, operation).map((name) =>
    name in values ? [name, values[name]] : [name],
  );
  return `${id}\u0000${args.operationName ?? ''}\u0000${JSON.stringify(used)}`;
}

/** Results by event, then by operation: dropped with the event. */
const results = new WeakMap<object, Map<string, Result>>();

function executeShared(args: ExecutionArgs, key: string, event: unknown): Result {
  if (typeof event !== 'object' || event === null) return execute({ ...args, rootValue: event });
  let byOperation = results.get(event);
  if (!byOperation) results.set(event, (byOperation = new Map()));
  let result = byOperation.get(key);
  if (!result) {
    result = execute({ ...args, rootValue: event });
    byOperation.set(key, result);
  }
  return result;
}

/**
 * What the events of `operation` are executed by: null, each on its own; else the key of
 * its shared results (for SHARED_FIELDS).
 */
export function sharingKey(args: ExecutionArgs, operation: OperationDefinitionNode): string | null {
  return onlyFields(operation, SHARED_FIELDS) ? operationKey(args, operation) : null;
}

/** One event's result: executed, or the one its subscribers of the same key share. */
export function executeEvent(args: ExecutionArgs, key: string | null, event: unknown): Result {
  return key === null ? execute({ ...args, rootValue: event }) : executeShared(args, key, event);
}
