/**
 * Input coercion compiled once per input type: what graphql-js's `coerceInputValue` does
 * for a valid value, without its per-value type tests and paths. It only accepts: anything
 * it does not plainly accept (a wrong type, a missing field, an unknown field, a value an
 * iterable other than an array) is refused with `CoercionRefused`, and the caller falls back
 * to graphql-js, whose answer (and error message) is then the one given.
 */
import {
  isInputObjectType,
  isLeafType,
  isListType,
  isNonNullType,
  type GraphQLInputObjectType,
  type GraphQLInputType,
  type GraphQLLeafType,
} from 'graphql';

/** A value the compiled coercion does not accept as it is: graphql-js decides. */
export class CoercionRefused extends Error {
  constructor() {
    super('refused by the compiled coercion: coerced by graphql-js instead');
  }
}

export type Coercer = (value: unknown) => unknown;

const REFUSED = new CoercionRefused();

function refuse(): never {
  throw REFUSED;
}

/** The coercer of `type`: graphql-js's coerced value, or `CoercionRefused`. */
export function compileCoercer(type: GraphQLInputType): Coercer {
  if (isNonNullType(type)) {
    const inner = compileNullable(type.ofType);
    return (value) => (value == null ? refuse() : inner(value));
  }
  const inner = compileNullable(type);
  return (value) => (value == null ? null : inner(value));
}

function compileNullable(type: GraphQLInputType): Coercer {
  if (isListType(type)) return listCoercer(compileCoercer(type.ofType));
  if (isInputObjectType(type)) return objectCoercer(type);
  if (isLeafType(type)) return leafCoercer(type);
  return refuse;
}

/** A list: each item of an array; a value that is not iterable is a list of one. */
function listCoercer(item: Coercer): Coercer {
  return (value) => {
    if (Array.isArray(value)) {
      const out = new Array<unknown>(value.length);
      for (let i = 0; i < value.length; i++) out[i] = item(value[i]);
      return out;
    }
    if (typeof value === 'object' && Symbol.iterator in (value as object)) refuse();
    return [item(value)];
  };
}

type Field = { name: string; coerce: Coercer; defaultValue: unknown; required: boolean };

function objectCoercer(type: GraphQLInputObjectType): Coercer {
  if ((type as { isOneOf?: boolean }).isOneOf) return refuse;
  let fields: Field[] | undefined;
  let names: Set<string> | undefined;
  return (value) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) refuse();
    // Compiled on first use: input types may refer to each other.
    fields ??= Object.values(type.getFields()).map((f) => ({
      name: f.name,
      coerce: compileCoercer(f.type),
      defaultValue: f.defaultValue,
      required: isNonNullType(f.type),
    }));
    names ??= new Set(fields.map((f) => f.name));
    return coerceFields(value as Record<string, unknown>, fields, names);
  };
}

function coerceFields(value: Record<string, unknown>, fields: Field[], names: Set<string>) {
  const out: Record<string, unknown> = {};
  for (const field of fields) {
    const given = value[field.name];
    if (given !== undefined) out[field.name] = field.coerce(given);
    else if (field.defaultValue !== undefined) out[field.name] = field.defaultValue;
    else if (field.required) refuse();
  }
  for (const key of Object.keys(value)) if (!names.has(key)) refuse();
  return out;
}

function leafCoercer(type: GraphQLLeafType): Coercer {
  return (value) => {
    let parsed: unknown;
    try {
      parsed = type.parseValue(value);
    } catch {
      refuse();
    }
    return parsed === undefined ? refuse() : parsed;
  };
}
