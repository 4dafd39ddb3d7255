/**
 * Yoga plugins that refuse requests before they cost anything: cross-site requests that
 * skipped the browser's preflight (CSRF), introspection when it is off, a field selected
 * over and over in one selection set, and every operation once the gateway is shutting down.
 */
import {
  BREAK,
  GraphQLError,
  Kind,
  NoSchemaIntrospectionCustomRule,
  visit,
  type DocumentNode,
  type SelectionNode,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { SHUTTING_DOWN_MESSAGE } from './shutdown.js';

/** The headers a browser cannot send cross-site without a preflight; any one will do. */
export const CSRF_HEADERS = [
  'x-graphql-csrf',
  'apollo-require-preflight',
  'x-apollo-operation-name',
];

/** Content types a cross-site form or `fetch` may send without a preflight. */
const SIMPLE_CONTENT_TYPES = new Set([
  'application/x-www-form-urlencoded',
  'multipart/form-data',
  'text/plain',
]);

/**
 * A request the browser must have preflighted: a content type a form cannot send (such as
 * application/json), or one of the CSRF headers. A GET has no content type: it needs a header.
 */
export function preflighted(headers: Headers): boolean {
  const type = headers.get('content-type')?.split(';')[0]?.trim().toLowerCase();
  if (type && !SIMPLE_CONTENT_TYPES.has(type)) return true;
  return CSRF_HEADERS.some((name) => headers.has(name));
}

/**
 * CSRF prevention (the rule of Apollo Server's): GETs and form-like POSTs without a CSRF
 * header are refused with 403 before anything is parsed. GraphiQL's page is served before
 * this (its requests are JSON POSTs); graphql-ws is not HTTP and is not concerned.
 */
export function useCsrfPrevention(): Plugin {
  return {
    onRequestParse({ request }) {
      if (preflighted(request.headers)) return;
      throw new GraphQLError(
        `This request needs a CSRF preflight: send it as a JSON POST (content-type: application/json), or with the header ${CSRF_HEADERS[0]}`,
        { extensions: { code: 'CSRF_PREVENTED', http: { status: 403 } } },
      );
    },
  };
}

/** Refuses `__schema` and `__type` (`__typename` stays allowed). */
export function useNoIntrospection(): Plugin {
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(NoSchemaIntrospectionCustomRule);
    },
  };
}

/** The response key of a field, or `...Name` for a fragment spread; null for inline fragments. */
function selectionKey(selection: SelectionNode): string | null {
  if (selection.kind === Kind.FIELD) return (selection.alias ?? selection.name).value;
  if (selection.kind === Kind.FRAGMENT_SPREAD) return `...${selection.name.value}`;
  return null;
}

/** The first selection repeated more than `max` times in one selection set, if any. */
export function overRepeated(document: DocumentNode, max: number): string | null {
  let found: string | null = null;
  visit(document, {
    SelectionSet(node) {
      const counts = new Map<string, number>();
      for (const selection of node.selections) {
        const key = selectionKey(selection);
        if (key === null) continue;
        const count = (counts.get(key) ?? 0) + 1;
        counts.set(key, count);
        if (count > max) {
          found = key;
          return BREAK;
        }
      }
      return undefined;
    },
  });
  return found;
}

/**
 * Field duplication (`{ __typename __typename … }` 500 times) is refused before validation,
 * whose overlapping-fields rule is quadratic in the repeats.
 */
export function useRepeatLimit(max: number): Plugin {
  // Yoga's parser cache hands out one document per query text: each is walked once.
  const checked = new WeakMap<DocumentNode, string | null>();
  const check = (document: DocumentNode) => {
    let key = checked.get(document);
    if (key === undefined) checked.set(document, (key = overRepeated(document, max)));
    return key;
  };
  return {
    onValidate({ params, setResult }) {
      const key = check(params.documentAST);
      if (key === null) return;
      const message = `${key}: selected more than ${max} times in one selection set`;
      setResult([new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } })]);
    },
  };
}

export function shuttingDownError(): GraphQLError {
  return new GraphQLError(SHUTTING_DOWN_MESSAGE, {
    extensions: { code: 'SHUTTING_DOWN', http: { status: 503 } },
  });
}

/**
 * Once `closing()` is true, operations that have not started executing are refused, over
 * HTTP and on sockets opened before the shutdown alike; those already running finish.
 */
export function useRefuseWhenClosing(closing: () => boolean): Plugin {
  const refuse = (payload: { setResultAndStopExecution(result: object): void }) => {
    if (closing()) payload.setResultAndStopExecution({ errors: [shuttingDownError()] });
  };
  return { onExecute: refuse, onSubscribe: refuse };
}
