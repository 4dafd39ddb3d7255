/**
 * Uploads' variables coerced by a compiled coercer (input-coercer.ts) instead of
 * graphql-js's generic one, which was the largest cost of a batched upload on the event
 * loop (about 8 µs per change, 15 times the compiled coercer's).
 *
 * graphql-js coerces variables inside `execute`, with no hook. So an operation that declares
 * a variable of one of these input types is executed against a twin of the schema in which
 * each such type is a scalar of the same name, whose `parseValue` is the compiled coercer.
 * Validation is done before, against the schema itself; the twin shares every other type,
 * field and resolver, so the result is the same. When the compiled coercer refuses a value
 * (anything it does not plainly accept), the operation is executed again against the
 * schema itself, before any resolver has run (variables are coerced first), so that a bad
 * input gets graphql-js's own error, word for word.
 *
 * Only an operation that declares such a variable takes the twin (another operation of the
 * same document, an introspection query say, sees the schema itself), and only in a
 * document without object literals: an input object written in the query itself is coerced
 * by graphql-js, as before.
 */
import {
  GraphQLList,
  GraphQLNonNull,
  GraphQLObjectType,
  GraphQLScalarType,
  GraphQLSchema,
  getNamedType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  Kind,
  valueFromAST,
  visit,
  BREAK,
  type DocumentNode,
  type ExecutionArgs,
  type GraphQLInputObjectType,
  type GraphQLInputType,
  type OperationDefinitionNode,
  type TypeNode,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { CoercionRefused, compileCoercer } from './input-coercer.js';
import { isPromise } from './maybe-promise.js';

/** The input types whose variables are coerced by the compiled coercer. */
export const COMPILED_INPUT_TYPES = ['ChangesetInput'];

/** How many executions took the twin, and how many of those fell back to the schema. */
export type CoercionCounts = { compiled: number; fellBack: number };

/** A scalar standing for `type`: its `parseValue` is `type`'s compiled coercion. */
function twinScalar(type: GraphQLInputObjectType): GraphQLScalarType {
  const coerce = compileCoercer(type);
  return new GraphQLScalarType({
    name: type.name,
    description: type.description,
    parseValue: coerce,
    parseLiteral: (node, variables) => {
      const value: unknown = valueFromAST(node, type, variables);
      if (value === undefined) throw new CoercionRefused();
      return value;
    },
  });
}

/** `type` with each of the twin's scalars in place of the input type of the same name. */
function swapped(
  type: GraphQLInputType,
  scalars: Map<string, GraphQLScalarType>,
): GraphQLInputType {
  if (isNonNullType(type)) return new GraphQLNonNull(swapped(type.ofType, scalars));
  if (isListType(type)) return new GraphQLList(swapped(type.ofType, scalars));
  return scalars.get(type.name) ?? type;
}

const refersTo = (type: GraphQLObjectType, names: Set<string>) =>
  Object.values(type.getFields()).some((field) =>
    field.args.some((arg) => names.has(getNamedType(arg.type).name)),
  );

/** An object type whose fields' arguments take the twin's scalars. */
function rewired(type: GraphQLObjectType, scalars: Map<string, GraphQLScalarType>) {
  const config = type.toConfig();
  const fields = Object.fromEntries(
    Object.entries(config.fields).map(([name, field]) => {
      const args = Object.fromEntries(
        Object.entries(field.args ?? {}).map(([a, arg]) => [
          a,
          { ...arg, type: swapped(arg.type, scalars) },
        ]),
      );
      return [name, { ...field, args }];
    }),
  );
  return new GraphQLObjectType({ ...config, fields });
}

/**
 * The twin of `schema`: `names`' input types are scalars, and the object types whose
 * fields take them as arguments are rebuilt to take the scalars; every other type is the
 * schema's own. Throws if an input type still refers to one of them (the twin would hold
 * two types of one name).
 */
export function coercionTwin(schema: GraphQLSchema, names: string[]): GraphQLSchema {
  const targets = new Set(names);
  const scalars = new Map<string, GraphQLScalarType>();
  for (const name of names) {
    const type = schema.getType(name);
    if (!isInputObjectType(type)) throw new Error(`${name} is not an input type of the schema`);
    scalars.set(name, twinScalar(type));
  }
  const config = schema.toConfig();
  const types = config.types.map((type) => {
    if (isObjectType(type) && refersTo(type, targets)) return rewired(type, scalars);
    return scalars.get(type.name) ?? type;
  });
  const pick = (root: GraphQLObjectType | null | undefined) =>
    root ? (types.find((t) => t.name === root.name) as GraphQLObjectType) : undefined;
  return new GraphQLSchema({
    ...config,
    query: pick(config.query),
    mutation: pick(config.mutation),
    subscription: pick(config.subscription),
    types,
  });
}

function namedTypeNode(node: TypeNode): string {
  return node.kind === Kind.NAMED_TYPE ? node.name.value : namedTypeNode(node.type);
}

/** The operation `operationName` picks, as graphql-js picks it; undefined if none. */
function pickedOperation(document: DocumentNode, operationName: string | null | undefined) {
  const operations = document.definitions.filter(
    (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
  );
  if (operationName == null) return operations.length === 1 ? operations[0] : undefined;
  return operations.find((o) => o.name?.value === operationName);
}

/**
 * Whether the operation executed declares a variable of one of `names`, and the document
 * writes no object literal. (Per operation: another operation of the same document, a
 * query that introspects, say, must see the schema itself.)
 */
function takesTwin(
  document: DocumentNode,
  operationName: string | null | undefined,
  names: Set<string>,
): boolean {
  const operation = pickedOperation(document, operationName);
  const declares = operation?.variableDefinitions?.some((v) => names.has(namedTypeNode(v.type)));
  if (!declares) return false;
  let literal = false;
  visit(document, {
    ObjectValue() {
      literal = true;
      return BREAK;
    },
  });
  return !literal;
}

/** Whether an error, or one it wraps, is the compiled coercer's refusal. */
function refusedHere(error: unknown): boolean {
  for (let e = error; e instanceof Error; e = (e as { originalError?: unknown }).originalError) {
    if (e instanceof CoercionRefused) return true;
  }
  return false;
}

type Result = { errors?: readonly unknown[]; data?: unknown };

/** The result refuses the variables, at least one of them by the compiled coercer. */
function refusedByCompiled(result: unknown): boolean {
  if (typeof result !== 'object' || result === null || 'data' in result) return false;
  return ((result as Result).errors ?? []).some(refusedHere);
}

/**
 * The envelop plugin: executions of documents that declare a variable of one of `names`
 * run against the twin. Put it last, so that it wraps the other plugins' executors.
 */
export function useCompiledCoercion(
  schema: GraphQLSchema,
  names = COMPILED_INPUT_TYPES,
  counts: CoercionCounts = { compiled: 0, fellBack: 0 },
): Plugin {
  const twin = coercionTwin(schema, names);
  const targets = new Set(names);
  const decided = new WeakMap<DocumentNode, Map<string, boolean>>();
  const applies = (document: DocumentNode, operationName: string | null | undefined) => {
    let byName = decided.get(document);
    if (!byName) decided.set(document, (byName = new Map()));
    const key = operationName ?? '';
    let yes = byName.get(key);
    if (yes === undefined) byName.set(key, (yes = takesTwin(document, operationName, targets)));
    return yes;
  };
  return {
    onExecute({ args, executeFn, setExecuteFn }) {
      if (args.schema !== schema || !applies(args.document, args.operationName)) return;
      setExecuteFn((given: ExecutionArgs) => {
        counts.compiled++;
        const settle = (result: unknown) => {
          if (!refusedByCompiled(result)) return result;
          counts.fellBack++;
          return executeFn(given);
        };
        const result: unknown = executeFn({ ...given, schema: twin });
        return (isPromise(result) ? result.then(settle) : settle(result)) as ReturnType<
          typeof executeFn
        >;
      });
    },
  };
}
