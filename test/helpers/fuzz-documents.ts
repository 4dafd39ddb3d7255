/**
 * Generated GraphQL requests: a known-good operation of the schema, mutated as text and as
 * structure (dropped and repeated tokens, repeated fields, aliases, directives, fragment
 * cycles and chains, deep selections, several operations, odd characters), with mutated
 * variables, operation names, bodies, content types and methods. Shared by the HTTP
 * property and the graphql-ws property (as subscribe payloads).
 */
import fc from 'fast-check';
import { RawJson } from './fuzz-harness.js';

export interface Ids {
  /** A session of the fuzzing user (carol), and another user's. */
  session: string;
  otherSession: string;
}

/** Known-good operations; `$S` stands for the fuzzing user's session id, `$O` another's. */
const CORPUS: { query: string; variables?: Record<string, unknown> }[] = [
  { query: '{ __typename }' },
  {
    query: `query Own($id: ID!) { session(id: $id) { id clientId state connectionState
      queries { collection filter } pausedDirections uploadProgress { progressEstimate } } }`,
    variables: { id: '$S' },
  },
  {
    query: `{ sessions(first: 5) { edges { cursor node { id clientId user { id } } }
      pageInfo { hasNextPage endCursor } } }`,
  },
  { query: `{ node(id: "$O") { id ... on SyncSession { clientId } } }` },
  {
    query: 'query Doc($c: String!, $i: ID!) { document(collection: $c, id: $i) }',
    variables: { c: 'cars', i: 'a' },
  },
  { query: 'mutation { createCancellationToken { id cancelled } }' },
  {
    query: 'mutation Wait($s: ID!) { waitForUpload(sessionId: $s, timeoutMs: 5) { id } }',
    variables: { s: '$S' },
  },
  {
    query: `mutation Ack($s: ID!, $v: Int!) { acknowledgeDownload(sessionId: $s, serverVersion: $v)
      { id lastDownloadedServerVersion } }`,
    variables: { s: '$S', v: 0 },
  },
  {
    query: `mutation Up($s: ID!, $cs: [ChangesetInput!]!) { uploadChanges(sessionId: $s, changesets: $cs)
      { lastIntegratedClientVersion serverVersion compensatingWrites { id reason } } }`,
    variables: { s: '$S', cs: [] },
  },
  {
    query: `mutation Pause($id: ID!) { pauseSession(id: $id, direction: UPLOAD,
      until: "2020-01-01T00:00:00Z") { state pausedUntil } }`,
    variables: { id: '$S' },
  },
  {
    query: 'mutation Resume($id: ID!) { resumeSession(id: $id) { state } }',
    variables: { id: '$S' },
  },
  { query: 'mutation { reconnect { sessions } }' },
  { query: 'mutation { cancel(cancellationToken: "tok_nope") { id } }' },
  { query: 'mutation { closeSession(id: "ses_nope") }' },
  {
    query: `mutation Q($s: ID!) { updateQueries(sessionId: $s, queries: [{ collection: "cars" }])
      { queriesVersion } }`,
    variables: { s: '$S' },
  },
  { query: `subscription { changes(sessionId: "$S", since: 99999) { toServerVersion } }` },
  { query: `subscription { changes(sessionId: "$O") { toServerVersion } }` },
  { query: `subscription { sessionEvents(sessionId: "ses_nope") { type } }` },
  {
    query: `subscription { progress(sessionId: "ses_nope", direction: UPLOAD,
      mode: FOR_CURRENTLY_OUTSTANDING_WORK) { progressEstimate } }`,
  },
  { query: '{ __schema { queryType { name } types { name kind } } }' },
  { query: '{ __type(name: "SyncSession") { fields { name args { name } } } }' },
];

const TOKEN =
  /"""[\s\S]*?"""|"(?:[^"\\\n]|\\.)*"|\.\.\.|[A-Za-z_][A-Za-z0-9_]*|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|\s+|#[^\n]*|[\s\S]/g;

const tokens = (text: string) => text.match(TOKEN) ?? [];

const INSERTS = [
  '{',
  '}',
  '(',
  ')',
  '[',
  ']',
  ':',
  '=',
  '!',
  '$',
  '...',
  '@',
  '|',
  '&',
  ',',
  'fragment',
  'on',
  'query',
  'mutation',
  'subscription',
  '__typename',
  '__schema',
  'sessions',
  'node',
  'id',
  'null',
  'true',
  '"str"',
  '"""block"""',
  '"\\u0000"',
  '"\\uD800"',
  '123',
  '1e999',
  '9'.repeat(40),
  '-0',
  '#comment\n',
  '\u0000',
  '\ufeff',
  '\u2028',
  '\ud800',
  '😀',
  '$undefinedVar',
  '@skip(if: true)',
  '@include(if: $nope)',
  '@deprecated',
  '@nope',
  '... on SyncSession { id }',
  '...Missing',
];

const DIRECTIVES = [
  '@skip(if: true)',
  '@skip(if: false)',
  '@include(if: false)',
  '@include(if: $undefinedVar)',
  '@deprecated',
  '@specifiedBy(url: "x")',
  '@nope',
  '@skip',
];

const FRAGMENTS: Record<string, { spread: string; defs: string }> = {
  cycle: {
    spread: '...A',
    defs: 'fragment A on Query { ...B } fragment B on Query { ...A }',
  },
  self: { spread: '...S', defs: 'fragment S on Query { __typename ...S }' },
  unused: { spread: '', defs: 'fragment U on Query { __typename }' },
  wrongType: { spread: '...W', defs: 'fragment W on SyncSession { id }' },
  unknownType: { spread: '...T', defs: 'fragment T on Nope { id }' },
  missing: { spread: '...Missing', defs: '' },
  inline: { spread: '... on Query { __typename }', defs: '' },
  inlineSkip: { spread: '... @skip(if: true) { __typename }', defs: '' },
  duplicate: {
    spread: '...D',
    defs: 'fragment D on Query { __typename } fragment D on Query { __typename }',
  },
};

export type DocMutation =
  | { kind: 'drop'; at: number }
  | { kind: 'repeatToken'; at: number; times: number }
  | { kind: 'swap'; at: number; with: number }
  | { kind: 'insert'; at: number; token: string }
  | { kind: 'repeatField'; times: number; field: string }
  | { kind: 'aliases'; count: number }
  | { kind: 'directives'; at: number; directive: string; times: number }
  | { kind: 'fragment'; which: string }
  | { kind: 'fragmentChain'; length: number }
  | { kind: 'nest'; depth: number; fields: boolean }
  | { kind: 'prependOperation'; text: string }
  | { kind: 'hugeComment'; length: number }
  | { kind: 'hugeArgument'; length: number };

const docMutation: fc.Arbitrary<DocMutation> = fc.oneof(
  fc.record({ kind: fc.constant('drop' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('repeatToken' as const),
    at: fc.nat(),
    times: fc.integer({ min: 2, max: 50 }),
  }),
  fc.record({ kind: fc.constant('swap' as const), at: fc.nat(), with: fc.nat() }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    token: fc.oneof(fc.constantFrom(...INSERTS), fc.string({ maxLength: 4, unit: 'binary' })),
  }),
  fc.record({
    kind: fc.constant('repeatField' as const),
    times: fc.constantFrom(2, 50, 500, 5000),
    field: fc.constantFrom(
      '__typename',
      'id',
      'reconnect { sessions }',
      'sessions { edges { cursor } }',
    ),
  }),
  fc.record({ kind: fc.constant('aliases' as const), count: fc.constantFrom(5, 30, 31, 200) }),
  fc.record({
    kind: fc.constant('directives' as const),
    at: fc.nat(),
    directive: fc.constantFrom(...DIRECTIVES),
    times: fc.constantFrom(1, 2, 60),
  }),
  fc.record({
    kind: fc.constant('fragment' as const),
    which: fc.constantFrom(...Object.keys(FRAGMENTS)),
  }),
  fc.record({
    kind: fc.constant('fragmentChain' as const),
    length: fc.constantFrom(3, 13, 100, 1000),
  }),
  fc.record({
    kind: fc.constant('nest' as const),
    depth: fc.constantFrom(3, 11, 13, 100, 3000),
    fields: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant('prependOperation' as const),
    text: fc.constantFrom(
      'query Other { __typename }',
      '{ __typename }',
      'query Own { __typename }',
      'subscription S { sessionEvents(sessionId: "x") { type } }',
      'query',
      'schema { query: Query }',
      'type X { a: Int }',
      'extend type Query { x: Int }',
    ),
  }),
  fc.record({
    kind: fc.constant('hugeComment' as const),
    length: fc.constantFrom(1000, 1_000_000),
  }),
  fc.record({
    kind: fc.constant('hugeArgument' as const),
    length: fc.constantFrom(1000, 1_000_000),
  }),
);

/** The index of the first selection set's opening brace in the token list (or -1). */
const firstBrace = (list: string[]) => list.indexOf('{');

function applyDocMutation(text: string, m: DocMutation): string {
  const list = tokens(text);
  const n = Math.max(list.length, 1);
  const at = 'at' in m ? m.at % n : 0;
  const insertAfterBrace = (insert: string) => {
    const i = firstBrace(list);
    if (i < 0) return `${text} ${insert}`;
    list.splice(i + 1, 0, ` ${insert} `);
    return list.join('');
  };
  switch (m.kind) {
    case 'drop':
      list.splice(at, 1);
      return list.join('');
    case 'repeatToken':
      list.splice(at, 1, ...Array.from({ length: m.times }, () => list[at] ?? ''));
      return list.join('');
    case 'swap': {
      const j = m.with % n;
      [list[at], list[j]] = [list[j] ?? '', list[at] ?? ''];
      return list.join('');
    }
    case 'insert':
      list.splice(at, 0, m.token);
      return list.join('');
    case 'repeatField':
      return insertAfterBrace(Array.from({ length: m.times }, () => m.field).join(' '));
    case 'aliases':
      return insertAfterBrace(
        Array.from({ length: m.count }, (_, i) => `a${i}: __typename`).join(' '),
      );
    case 'directives': {
      // After a name token: a field, an operation or a fragment.
      const names = list.flatMap((t, i) => (/^[A-Za-z_]/.test(t) ? [i] : []));
      if (names.length === 0) return text;
      const i = names[at % names.length]!;
      list.splice(i + 1, 0, ` ${Array.from({ length: m.times }, () => m.directive).join(' ')} `);
      return list.join('');
    }
    case 'fragment': {
      const f = FRAGMENTS[m.which]!;
      return `${insertAfterBrace(f.spread)}\n${f.defs}`;
    }
    case 'fragmentChain': {
      const defs = Array.from({ length: m.length }, (_, i) =>
        i + 1 < m.length
          ? `fragment F${i} on Query { ...F${i + 1} }`
          : `fragment F${i} on Query { __typename }`,
      ).join('\n');
      return `${insertAfterBrace('...F0')}\n${defs}`;
    }
    case 'nest': {
      // Selections m.depth levels deep: fields the schema lacks, or inline fragments on Query.
      const open = m.fields ? 'sessions {' : '... on Query {';
      return insertAfterBrace(`${open.repeat(m.depth)} __typename ${'}'.repeat(m.depth)}`);
    }
    case 'prependOperation':
      return `${m.text}\n${text}`;
    case 'hugeComment':
      return `#${'x'.repeat(m.length)}\n${text}`;
    case 'hugeArgument':
      return insertAfterBrace(`document(collection: "${'c'.repeat(m.length)}", id: "x")`);
  }
}

export interface DocumentCase {
  query: unknown;
  variables: unknown;
  operationName?: unknown;
  extensions?: unknown;
  /** How the request is sent over HTTP (graphql-ws ignores it). */
  transport: {
    method: 'POST' | 'GET';
    contentType: string;
    accept: string;
    /** The body as sent: JSON of the fields above, or something else. */
    body: 'json' | 'batch' | 'not-json' | 'empty' | 'duplicate-keys' | 'form';
  };
  labels: string[];
}

const variablesMutation = fc.oneof(
  { weight: 6, arbitrary: fc.constant<unknown>('keep') },
  fc.constant<unknown>(null),
  fc.constantFrom<unknown>([], 'x', 5, true),
  fc.dictionary(
    fc.constantFrom('s', 'id', 'v', 'c', 'i', 'cs', 'x', '__proto__'),
    fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      fc.constantFrom('$S', '$O', 2 ** 31, -1, 1.5, '', 'x'.repeat(300)),
    ),
    { maxKeys: 3 },
  ),
);

export function documentCase(ids: Ids): fc.Arbitrary<DocumentCase> {
  const fill = (text: string) =>
    text.replaceAll('$S', ids.session).replaceAll('$O', ids.otherSession);
  const fillValue = (v: unknown): unknown =>
    v === '$S' ? ids.session : v === '$O' ? ids.otherSession : v;
  return fc
    .record({
      base: fc.nat({ max: CORPUS.length - 1 }),
      mutations: fc.array(docMutation, { maxLength: 3 }),
      variables: variablesMutation,
      operationName: fc.oneof(
        { weight: 6, arbitrary: fc.constant<unknown>('keep') },
        fc.constantFrom<unknown>(null, '', 'Other', 'Own', 5, 'x'.repeat(1000)),
      ),
      extensions: fc.oneof(
        { weight: 6, arbitrary: fc.constant<unknown>(undefined) },
        fc.constantFrom<unknown>(null, 'x', [], {
          persistedQuery: { version: 1, sha256Hash: 'x' },
        }),
        fc.jsonValue({ maxDepth: 2 }),
      ),
      query: fc.oneof(
        { weight: 12, arbitrary: fc.constant<unknown>('keep') },
        fc.constantFrom<unknown>(null, 5, ['{ __typename }'], { a: 1 }, ''),
      ),
      transport: fc.oneof(
        {
          weight: 12,
          arbitrary: fc.constant<DocumentCase['transport']>({
            method: 'POST',
            contentType: 'application/json',
            accept: 'application/graphql-response+json, application/json',
            body: 'json',
          }),
        },
        fc.record({
          method: fc.constantFrom('POST' as const, 'GET' as const),
          contentType: fc.constantFrom(
            'application/json',
            'application/graphql-response+json',
            'application/graphql',
            'text/plain',
            'application/x-www-form-urlencoded',
            'multipart/form-data; boundary=x',
            '',
          ),
          accept: fc.constantFrom(
            'application/json',
            'application/graphql-response+json',
            'text/event-stream',
            'multipart/mixed',
            'text/html',
            '*/*',
          ),
          body: fc.constantFrom(
            'json' as const,
            'batch' as const,
            'not-json' as const,
            'empty' as const,
            'duplicate-keys' as const,
            'form' as const,
          ),
        }),
      ),
    })
    .map((r) => {
      const base = CORPUS[r.base]!;
      let text = fill(base.query);
      const labels = [`corpus[${r.base}]`];
      for (const m of r.mutations) {
        text = applyDocMutation(text, m);
        labels.push(m.kind);
      }
      const baseVariables = Object.fromEntries(
        Object.entries(base.variables ?? {}).map(([k, v]) => [k, fillValue(v)]),
      );
      const variables =
        r.variables === 'keep'
          ? baseVariables
          : typeof r.variables === 'object' && r.variables !== null && !Array.isArray(r.variables)
            ? Object.fromEntries(Object.entries(r.variables).map(([k, v]) => [k, fillValue(v)]))
            : r.variables;
      const opName = /^(?:query|mutation|subscription)\s+([A-Za-z_]\w*)/.exec(base.query)?.[1];
      const c: DocumentCase = {
        query: r.query === 'keep' ? big(text) : r.query,
        variables,
        transport: r.transport,
        labels,
      };
      if (r.operationName !== 'keep') c.operationName = r.operationName;
      else if (opName) c.operationName = opName;
      if (r.extensions !== undefined) c.extensions = r.extensions;
      return c;
    });
}

/** Long texts travel as RawJson, so counterexamples stay readable. */
const big = (text: string): unknown =>
  text.length > 2000
    ? new RawJson(JSON.stringify(text), `<query of ${text.length} chars: ${text.slice(0, 200)}...>`)
    : text;
