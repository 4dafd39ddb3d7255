/** checkUploadSize reads each document once (cached per AST) and each request's variables. */
import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { checkUploadSize } from '../src/server/limits.js';

const UPLOAD = parse(
  'mutation Up($cs: [ChangesetInput!]!) { uploadChanges(sessionId: "s", changesets: $cs) { serverVersion } }',
);
const items = (n: number) => Array.from({ length: n }, () => ({}));

describe('checkUploadSize', () => {
  it('counts the variable of every request, on the same document', () => {
    expect(checkUploadSize(UPLOAD, undefined, { cs: items(3) }, 3)).toBeNull();
    expect(checkUploadSize(UPLOAD, undefined, { cs: items(4) }, 3)?.message).toMatch(
      /^changesets: 4 changesets exceed the limit of 3/,
    );
    expect(checkUploadSize(UPLOAD, 'Up', { cs: items(4) }, 3)?.extensions).toEqual({
      code: 'BAD_USER_INPUT',
      field: 'changesets',
    });
    expect(checkUploadSize(UPLOAD, undefined, { cs: items(2) }, 3)).toBeNull();
    expect(checkUploadSize(UPLOAD, undefined, { cs: 'not a list' }, 0)).toBeNull();
    expect(checkUploadSize(UPLOAD, undefined, null, 0)).toBeNull();
  });

  it('counts list literals, in fragments too, and picks the named operation', () => {
    const doc = parse(`
      mutation A { uploadChanges(sessionId: "s", changesets: [{}, {}]) { ...F } }
      mutation B($cs: [ChangesetInput!]!) { uploadChanges(sessionId: "s", changesets: $cs) { serverVersion } }
      fragment F on UploadAck { x: serverVersion @skip(if: false) }
    `);
    expect(checkUploadSize(doc, 'A', {}, 1)?.message).toMatch(/^changesets: 2 changesets/);
    expect(checkUploadSize(doc, 'A', {}, 2)).toBeNull();
    expect(checkUploadSize(doc, 'B', { cs: items(5) }, 4)?.message).toMatch(/^changesets: 5/);
    expect(checkUploadSize(doc, 'B', { cs: items(4) }, 4)).toBeNull();
    // No operation to pick: graphql-js refuses the document, not this check.
    expect(checkUploadSize(doc, undefined, { cs: items(9) }, 1)).toBeNull();
    expect(checkUploadSize(doc, 'C', { cs: items(9) }, 1)).toBeNull();
    // Once more, from the cache.
    expect(checkUploadSize(doc, 'A', {}, 1)?.message).toMatch(/^changesets: 2 changesets/);
    expect(checkUploadSize(doc, 'B', { cs: items(5) }, 4)?.message).toMatch(/^changesets: 5/);
  });

  it('takes the largest of several changesets arguments, in a fragment as well', () => {
    const doc = parse(`
      mutation ($a: [ChangesetInput!]!) {
        one: uploadChanges(sessionId: "s", changesets: $a) { serverVersion }
        ...Two
      }
      fragment Two on Mutation { two: uploadChanges(sessionId: "s", changesets: [{}, {}, {}]) { serverVersion } }
    `);
    expect(checkUploadSize(doc, null, { a: items(1) }, 2)?.message).toMatch(/^changesets: 3/);
    expect(checkUploadSize(doc, null, { a: items(4) }, 3)?.message).toMatch(/^changesets: 4/);
    expect(checkUploadSize(doc, null, { a: items(1) }, 3)).toBeNull();
  });
});
