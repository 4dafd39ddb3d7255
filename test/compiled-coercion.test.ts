/**
 * The compiled coercion of uploads' variables (src/server/compiled-coercion.ts) against
 * graphql-js's: the same coerced values, the same refusals, and through Yoga the same
 * responses, byte for byte, for valid and invalid variables alike. fast-check prints the
 * seed of a failing run.
 */
import fc from 'fast-check';
import {
  coerceInputValue,
  GraphQLSchema,
  buildSchema,
  isInputObjectType,
  type GraphQLInputType,
} from 'graphql';
import { JSONResolver } from 'graphql-scalars';
import { createYoga } from 'graphql-yoga';
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  coercionTwin,
  useCompiledCoercion,
  type CoercionCounts,
} from '../src/server/compiled-coercion.js';
import { CoercionRefused, compileCoercer } from '../src/server/input-coercer.js';
import { schema as gatewaySchema } from '../src/server/schema.js';

/** graphql-js's coercion: the value, or the refusal's messages. */
function byGraphql(value: unknown, type: GraphQLInputType) {
  const errors: string[] = [];
  const coerced = coerceInputValue(value, type, (path, _v, e) =>
    errors.push(`${path.join('.')}: ${e.message}`),
  );
  return errors.length ? { errors } : { coerced };
}

function byCompiled(value: unknown, type: GraphQLInputType) {
  try {
    return { coerced: compileCoercer(type)(value) };
  } catch (error) {
    if (error instanceof CoercionRefused) return { refused: true };
    throw error;
  }
}

/** Both agree: the same value when graphql-js accepts, a refusal when it does not. */
function expectSameCoercion(value: unknown, type: GraphQLInputType) {
  const expected = byGraphql(value, type);
  const actual = byCompiled(value, type);
  if ('errors' in expected) expect(actual).toEqual({ refused: true });
  else expect(isDeepStrictEqual(actual.coerced, expected.coerced)).toBe(true);
}

// ---- values near the upload's input ------------------------------------------------

const scalarish = fc.oneof(
  fc.string({ maxLength: 4 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom('INSERT', 'UPDATE', 'DELETE', 'insert', 2 ** 31, 1.5, ''),
);
const json = fc.jsonValue({ maxDepth: 2 });
const change = fc.record(
  {
    collection: fc.oneof(fc.constant('cars'), scalarish),
    id: fc.oneof(fc.constant('c1'), fc.integer(), scalarish),
    op: fc.oneof(fc.constantFrom('INSERT', 'UPDATE', 'DELETE'), scalarish),
    document: json,
    set: json,
    unset: fc.oneof(fc.array(fc.oneof(fc.string(), scalarish), { maxLength: 3 }), scalarish),
    extra: scalarish,
  },
  { requiredKeys: [] },
);
const changeset = fc.record(
  {
    clientVersion: fc.oneof(fc.nat(), scalarish),
    timestamp: fc.oneof(fc.constant('2026-11-26T19:55:08.123Z-0001'), scalarish),
    changes: fc.oneof(fc.array(fc.oneof(change, scalarish), { maxLength: 4 }), change),
    extra: scalarish,
  },
  { requiredKeys: [] },
);
/** Mostly well-formed: every field present and right, one of them perhaps replaced. */
const validChange = fc.record({
  collection: fc.constant('cars'),
  id: fc.oneof(fc.string({ minLength: 1, maxLength: 5 }), fc.nat()),
  op: fc.constantFrom('INSERT', 'UPDATE', 'DELETE'),
  document: json,
});
const validChangeset = fc.record({
  clientVersion: fc.nat(),
  timestamp: fc.constant('2026-11-26T19:55:08.123Z-0001'),
  changes: fc.array(validChange, { maxLength: 5 }),
});

const changesetType = gatewaySchema.getType('ChangesetInput');
if (!isInputObjectType(changesetType)) throw new Error('no ChangesetInput in the schema');

describe('the compiled coercer against graphql-js (the gateway’s ChangesetInput)', () => {
  it('coerces a well-formed changeset to the same value', () => {
    fc.assert(
      fc.property(validChangeset, (value) => {
        expect(byCompiled(value, changesetType)).not.toHaveProperty('refused');
        expectSameCoercion(value, changesetType);
      }),
      { numRuns: 300 },
    );
  });

  it('agrees on anything near it: the same value, or a refusal where graphql-js refuses', () => {
    fc.assert(
      fc.property(fc.oneof(changeset, fc.anything()), (value) => {
        expectSameCoercion(value, changesetType);
      }),
      { numRuns: 1000 },
    );
  });

  it('agrees on lists, non-null wrappers and a single value given for a list', () => {
    const list = gatewaySchema
      .getMutationType()!
      .getFields()
      .uploadChanges!.args.find((a) => a.name === 'changesets')!.type;
    fc.assert(
      fc.property(fc.oneof(fc.array(fc.oneof(validChangeset, changeset)), changeset), (v) => {
        expectSameCoercion(v, list);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses what graphql-js would coerce but it does not plainly accept (a Set as a list)', () => {
    const value = { clientVersion: 1, timestamp: 't', changes: new Set() };
    expect(byGraphql(value, changesetType)).toEqual({ coerced: { ...value, changes: [] } });
    expect(byCompiled(value, changesetType)).toEqual({ refused: true });
  });
});

// ---- through Yoga: the ordinary execution and the twin ------------------------------

const SDL = `
  scalar JSON
  enum Op { A B }
  input Inner { n: Int!, f: Float, tags: [String!], op: Op = A, j: JSON }
  input Loose { a: Int, b: [String!] }
  input Outer { id: ID!, inner: [Inner!]!, opt: Inner, flag: Boolean = true, loose: Loose }
  type Query { ok: Boolean }
  type Mutation { echo(items: [Outer!]!, note: String): String }
`;

function echoSchema(): GraphQLSchema {
  const schema = buildSchema(SDL);
  const json = schema.getType('JSON') as unknown as Record<string, unknown>;
  Object.assign(json, {
    parseValue: JSONResolver.parseValue,
    serialize: JSONResolver.serialize,
    parseLiteral: JSONResolver.parseLiteral,
  });
  const echo = schema.getMutationType()!.getFields().echo!;
  echo.resolve = (_root, args) => JSON.stringify(args);
  return schema;
}

const ECHO = 'mutation E($items: [Outer!]!, $note: String) { echo(items: $items, note: $note) }';

type AnyYoga = ReturnType<typeof createYoga>;

async function postOperation(
  yoga: AnyYoga,
  operation: { query: string; operationName?: string },
  variables: unknown,
) {
  const response = await yoga.fetch('http://yoga/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ ...operation, variables }),
  });
  return { status: response.status, body: await response.text() };
}

const post = (yoga: AnyYoga, query: string, variables: unknown) =>
  postOperation(yoga, { query }, variables);

const inner = fc.record(
  {
    n: fc.oneof(fc.integer(), scalarish),
    f: fc.oneof(fc.double({ noNaN: true }), scalarish),
    tags: fc.oneof(fc.array(fc.oneof(fc.string(), scalarish), { maxLength: 3 }), scalarish),
    op: fc.oneof(fc.constantFrom('A', 'B'), scalarish),
    j: json,
    x: scalarish,
  },
  { requiredKeys: ['n'] },
);
const outer = fc.record(
  {
    id: fc.oneof(fc.string(), fc.integer(), scalarish),
    inner: fc.oneof(fc.array(inner, { maxLength: 3 }), inner, scalarish),
    opt: fc.oneof(inner, fc.constant(null)),
    flag: fc.oneof(fc.boolean(), scalarish),
    // No required field: an array (or {}) must still be refused, as graphql-js does.
    loose: fc.oneof(
      fc.record(
        { a: fc.oneof(fc.integer(), scalarish), b: fc.array(fc.string()) },
        { requiredKeys: [] },
      ),
      fc.array(scalarish, { maxLength: 2 }),
      scalarish,
    ),
  },
  { requiredKeys: ['id', 'inner'] },
);

describe('Yoga with the compiled coercion, against Yoga without it', () => {
  const schema = echoSchema();
  const counts: CoercionCounts = { compiled: 0, fellBack: 0 };
  const plain = createYoga({ schema, logging: false });
  const compiled = createYoga({
    schema,
    logging: false,
    plugins: [useCompiledCoercion(schema, ['Outer'], counts)],
  });

  it('answers every variable value with the same status and the same bytes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.array(outer, { maxLength: 3 }), outer, fc.anything()),
        async (items) => {
          const variables = { items, note: 'n' };
          expect(await post(compiled, ECHO, variables)).toEqual(await post(plain, ECHO, variables));
        },
      ),
      { numRuns: 400 },
    );
    // Both paths were taken: the twin's answers, and graphql-js's after a refusal.
    expect(counts.compiled).toBe(400);
    expect(counts.fellBack).toBeGreaterThan(20);
    expect(counts.fellBack).toBeLessThan(counts.compiled);
  });

  it('leaves documents with object literals, or without those types, to graphql-js', async () => {
    const before = { ...counts };
    const literal = 'mutation { echo(items: [{ id: "a", inner: [{ n: 1 }] }]) }';
    expect(await post(compiled, literal, {})).toEqual(await post(plain, literal, {}));
    const other = 'mutation N($note: String) { echo(items: [], note: $note) }';
    expect(await post(compiled, other, { note: 'x' })).toEqual(
      await post(plain, other, { note: 'x' }),
    );
    expect(counts).toEqual(before);
  });

  it('refuses an array for an input object, even one without a required field', () => {
    const loose = schema.getType('Loose');
    if (!isInputObjectType(loose)) throw new Error('no Loose');
    for (const value of [[], [{ a: 1 }], {}]) expectSameCoercion(value, loose);
    expect(byCompiled([], loose)).toEqual({ refused: true });
  });

  it('leaves another operation of the same document to the schema itself (introspection)', async () => {
    const before = { ...counts };
    const both = `query Q { __type(name: "Outer") { kind inputFields { name } } } ${ECHO}`;
    const asQuery = { query: both, operationName: 'Q' };
    const answer = await postOperation(compiled, asQuery, {});
    expect(answer).toEqual(await postOperation(plain, asQuery, {}));
    expect(answer.body).toContain('"kind":"INPUT_OBJECT"');
    expect(counts).toEqual(before);
    const asMutation = { query: both, operationName: 'E' };
    const variables = { items: [{ id: 'a', inner: [{ n: 1 }] }] };
    const echoed = await postOperation(compiled, asMutation, variables);
    expect(echoed).toEqual(await postOperation(plain, asMutation, variables));
    expect(counts.compiled).toBe(before.compiled + 1);
  });

  it('gives a missing or null variable graphql-js’s own words', async () => {
    for (const variables of [{}, { items: null }, { items: [null] }]) {
      expect(await post(compiled, ECHO, variables)).toEqual(await post(plain, ECHO, variables));
    }
  });
});

describe('the gateway schema’s twin', () => {
  it('has ChangesetInput as a scalar of the same name, and every other type as it was', () => {
    const twin = coercionTwin(gatewaySchema, ['ChangesetInput']);
    expect(twin.getType('ChangesetInput')?.constructor.name).toBe('GraphQLScalarType');
    expect(twin.getType('UploadAck')).toBe(gatewaySchema.getType('UploadAck'));
    expect(twin.getQueryType()).toBe(gatewaySchema.getQueryType());
    const upload = twin.getMutationType()!.getFields().uploadChanges!;
    expect(upload.resolve).toBe(
      gatewaySchema.getMutationType()!.getFields().uploadChanges!.resolve,
    );
  });

  it('refuses to be built when an input type still refers to a replaced one', () => {
    expect(() => coercionTwin(gatewaySchema, ['ChangeInput'])).toThrow(/ChangeInput/);
    expect(() => coercionTwin(gatewaySchema, ['UploadAck'])).toThrow(/not an input type/);
  });

  it('answers uploads as the ordinary execution does, compiled or refused', async () => {
    const counts: CoercionCounts = { compiled: 0, fellBack: 0 };
    const plugin = useCompiledCoercion(gatewaySchema, ['ChangesetInput'], counts);
    const plain = createYoga({ schema: gatewaySchema, logging: false });
    const compiled = createYoga({ schema: gatewaySchema, logging: false, plugins: [plugin] });
    const upload = `mutation U($s: ID!, $c: [ChangesetInput!]!) {
      uploadChanges(sessionId: $s, changesets: $c) { serverVersion } }`;
    const change = { collection: 'cars', id: 'c1', op: 'INSERT', document: { a: 1 } };
    const good = { clientVersion: 1, timestamp: 't', changes: [change] };
    const bad = { ...good, changes: [{ ...change, op: 'NOPE' }] };
    for (const c of [[good], [bad], [good, { ...good, changes: {} }]]) {
      const answer = await post(compiled, upload, { s: 's1', c });
      expect(answer).toEqual(await post(plain, upload, { s: 's1', c }));
    }
    // Without the gateway's context the resolver fails alike on both; the bad op is named.
    expect((await post(compiled, upload, { s: 's1', c: [bad] })).body).toMatch(
      /Value \\"NOPE\\" does not exist in \\"ChangeOp\\" enum/,
    );
    expect(counts).toEqual({ compiled: 4, fellBack: 3 });
  });
});
