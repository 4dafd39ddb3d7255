/**
 * ajv's errors in our style: the field by its path in the request, then the problem
 * (`changesets[0].changes[1].document.tags[0]: must be string`).
 */
import type { ErrorObject } from 'ajv';
import { badInput, type SyncError } from '../errors.js';

const unescapeToken = (token: string) => token.replace(/~1/g, '/').replace(/~0/g, '~');

/**
 * `/tags/0` under `field` becomes `field.tags[0]`: a token is an index where the value
 * it walks through is an array, so the data is walked alongside.
 */
export function instanceField(field: string, pointer: string, data: unknown): string {
  if (pointer === '') return field;
  let path = field;
  let value = data;
  for (const token of pointer.slice(1).split('/').map(unescapeToken)) {
    path = Array.isArray(value) ? `${path}[${token}]` : `${path}.${token}`;
    value = typeof value === 'object' && value !== null ? Reflect.get(value, token) : undefined;
  }
  return path;
}

/** The first ajv error as BAD_USER_INPUT naming the field; a missing or extra field is named itself. */
export function schemaError(field: string, error: ErrorObject, data: unknown): SyncError {
  const at = instanceField(field, error.instancePath, data);
  const { params } = error;
  if (error.keyword === 'required')
    return badInput(`${at}.${params.missingProperty}`, 'is required');
  if (error.keyword === 'additionalProperties') {
    return badInput(`${at}.${params.additionalProperty}`, NOT_IN_SCHEMA);
  }
  const allowed =
    error.keyword === 'enum'
      ? `: ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`
      : '';
  return badInput(at, `${error.message ?? 'does not match the schema'}${allowed}`);
}

export const NOT_IN_SCHEMA =
  "is not a field of the collection's schema (additionalProperties is false)";
