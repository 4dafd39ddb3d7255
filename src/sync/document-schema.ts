/**
 * A collection's JSON Schema (draft-07, compiled by ajv once per schema). An INSERT's whole
 * document must match it; an UPDATE's `set` fields are each checked against the schema's
 * top-level `properties`, `patternProperties` and `additionalProperties`, and an `unset` may
 * not remove a `required` field. `_id` is implied: a string, declared or not. Extended JSON
 * values are checked as the objects they are (`{ "$date": "…" }`), after normalisation.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import { badInput } from '../errors.js';
import { isJsonObject, type JsonObject } from './model.js';
import { NOT_IN_SCHEMA, schemaError } from './schema-errors.js';

/** The id each schema gets in its own ajv instance, so fragments resolve against it. */
const ID = 'sync-gateway:document';

/** A JSON Pointer token as a URI fragment (ajv decodes both). */
const token = (name: string) => encodeURIComponent(name.replace(/~/g, '~0').replace(/\//g, '~1'));

const objectOrEmpty = (value: unknown): JsonObject => (isJsonObject(value) ? value : {});

/** The schema with `_id` declared a string (unless the schema says more about it). */
function withId(schema: JsonObject): JsonObject {
  const properties = schema.properties ?? {};
  if (!isJsonObject(properties)) return schema; // ajv refuses it as written
  return { ...schema, $id: ID, properties: { _id: { type: 'string' }, ...properties } };
}

/** Finds a collection's schema by its name; none means anything goes. */
export type SchemaLookup = (collection: string) => DocumentSchema | undefined;

export class DocumentSchema {
  // One instance per schema: its `$id` and fragments cannot clash with another collection's.
  private readonly ajv = new Ajv({ strictTypes: false, strictTuples: false });
  private readonly whole: ValidateFunction;
  private readonly properties: JsonObject;
  private readonly patterns: [RegExp, string][];
  private readonly required: Set<string>;

  /** Compiles `schema`; throws ajv's reason when it cannot. */
  constructor(readonly schema: JsonObject) {
    this.whole = this.ajv.compile(withId(schema));
    this.properties = objectOrEmpty(schema.properties);
    this.patterns = Object.keys(objectOrEmpty(schema.patternProperties)).map((p) => [
      new RegExp(p, 'u'),
      `#/patternProperties/${token(p)}`,
    ]);
    const required = schema.required;
    this.required = new Set(Array.isArray(required) ? (required as string[]) : []);
  }

  /** Checks an INSERT's document under `field`; throws BAD_USER_INPUT naming the bad value. */
  checkDocument(field: string, id: string, document: JsonObject): void {
    const data = { ...document, _id: id };
    if (!this.whole(data)) throw schemaError(field, this.whole.errors![0]!, data);
  }

  /** Checks each field an UPDATE sets against what the schema says of that field. */
  checkSet(field: string, set: JsonObject): void {
    for (const [name, value] of Object.entries(set)) {
      for (const validate of this.validatorsOf(`${field}.${name}`, name)) {
        if (!validate(value)) throw schemaError(`${field}.${name}`, validate.errors![0]!, value);
      }
    }
  }

  /** Refuses to unset a field the schema requires. */
  checkUnset(field: string, names: readonly string[]): void {
    names.forEach((name, i) => {
      if (this.required.has(name)) {
        throw badInput(`${field}[${i}]`, `"${name}" is required by the collection's schema`);
      }
    });
  }

  /** The subschemas a top-level field must match, as JSON Schema applies them to an object. */
  private validatorsOf(field: string, name: string): ValidateFunction[] {
    const pointers = this.patterns.filter(([re]) => re.test(name)).map(([, p]) => p);
    if (Object.hasOwn(this.properties, name)) pointers.push(`#/properties/${token(name)}`);
    if (pointers.length === 0) {
      const additional = this.schema.additionalProperties;
      if (additional === false) throw badInput(field, NOT_IN_SCHEMA);
      if (isJsonObject(additional)) pointers.push('#/additionalProperties');
    }
    return pointers.map((p) => this.fragment(p));
  }

  /** A fragment's validator; ajv compiles it once and keeps it. */
  private fragment(pointer: string): ValidateFunction {
    const validate = this.ajv.getSchema(`${ID}${pointer}`);
    if (!validate) throw new Error(`schema fragment ${pointer} did not resolve`);
    return validate;
  }
}

const compiled = new WeakMap<JsonObject, DocumentSchema>();

/** The validator of `schema`, compiled once per schema object; throws ajv's reason when it cannot. */
export function documentSchema(schema: JsonObject): DocumentSchema {
  let found = compiled.get(schema);
  if (!found) {
    found = new DocumentSchema(schema);
    compiled.set(schema, found);
  }
  return found;
}
