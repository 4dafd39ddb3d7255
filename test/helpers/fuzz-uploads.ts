/**
 * Generated `uploadChanges` requests: a valid upload (the session's next client versions,
 * recent timestamps, INSERT / UPDATE / DELETE of small documents owned by the caller) and up
 * to three mutations of it, each of which says whether the contract (README, "Documents";
 * test/bad-input.test.ts) requires the gateway to refuse the result. Client versions and
 * timestamps stay symbolic (next + k, now - ms) until the run resolves them, so a case means
 * the same thing whatever the session's state when it is replayed or shrunk.
 */
import fc from 'fast-check';
import { RawJson } from './fuzz-harness.js';

export type SessionRef = 'own' | 'other' | 'missing' | 'empty' | 'closed';

/** `{ next: k }`: the session's next client version plus k; `{ raw }`: sent as is. */
export type VersionSpec = { next: number } | { raw: unknown };
/** `{ agoMs }`: the gateway's now minus agoMs (negative: ahead); `{ raw }`: sent as is. */
export type TimeSpec = { agoMs: number; counter: number } | { raw: unknown };

export interface ChangesetCase {
  clientVersion?: VersionSpec;
  timestamp?: TimeSpec;
  changes?: unknown;
  [extra: string]: unknown;
}

export interface UploadCase {
  session: SessionRef;
  /** A list of changesets, or (mutated) anything else. */
  changesets: ChangesetCase[] | unknown;
  omit: ('s' | 'cs')[];
  latestClientVersion?: unknown;
  pendingBytes?: unknown;
  /** The mutations applied, in order. */
  labels: string[];
  /** Whether the contract requires a refusal (false: either answer may be right). */
  mustRefuse: boolean;
}

// ---------------------------------------------------------------------------------------------
// The valid upload

const fieldName = fc.stringMatching(/^[a-z][a-zA-Z0-9_]{0,8}$/);

const scalar = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.string({ maxLength: 8, unit: 'binary' }),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
);

const { value: safeValue } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(fieldName, tie('value'), { maxKeys: 3 }),
  ),
}));

const safeFields = fc.dictionary(fieldName, safeValue, { maxKeys: 4 });
const collection = fc.constantFrom('cars', 'notes');
const docId = fc.oneof(fc.constantFrom('a', 'b', 'c', 'd'), fc.stringMatching(/^[a-z0-9-]{1,12}$/));

const change = fc.oneof(
  fc.record({
    collection,
    id: docId,
    op: fc.constant('INSERT'),
    document: safeFields.map((f) => ({ ...f, ownerId: 'alice' })),
  }),
  fc
    .record({
      collection,
      id: docId,
      op: fc.constant('UPDATE'),
      set: safeFields,
      unset: fc.array(fieldName, { maxLength: 2 }),
    })
    .map((c) => {
      const out: Record<string, unknown> = { collection: c.collection, id: c.id, op: 'UPDATE' };
      if (Object.keys(c.set).length > 0 || c.unset.length === 0) out.set = c.set;
      if (c.unset.length > 0) out.unset = c.unset.filter((n) => !(n in c.set));
      if ((out.unset as string[] | undefined)?.length === 0) {
        delete out.unset;
        out.set ??= { touched: true };
      }
      return out;
    }),
  fc.record({ collection, id: docId, op: fc.constant('DELETE') }),
);

const validUpload = fc
  .array(
    fc.record({
      agoMs: fc.integer({ min: 0, max: 10 * 60_000 }),
      counter: fc.integer({ min: 0, max: 9999 }),
      changes: fc.array(change, { minLength: 1, maxLength: 3 }),
    }),
    { minLength: 0, maxLength: 3 },
  )
  .map((list) =>
    list.map((cs, i): ChangesetCase => ({
      clientVersion: { next: i },
      timestamp: { agoMs: cs.agoMs, counter: cs.counter },
      changes: cs.changes,
    })),
  );

// ---------------------------------------------------------------------------------------------
// Mutations: data (printable, shrinkable), applied by `mutate`.

const BAD_NAMES = ['$x', '$where', '$set', '$', 'a.b', '.', 'x.', '.y', '__proto__'];
/** Names the contract allows (JavaScript's own, too) and odd but legal ones. */
const ODD_NAMES = [
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'valueOf',
  '__defineGetter__',
  'a$',
  'ü',
  '😀',
  ' ',
  'null',
];

const VALID_EJSON: unknown[] = [
  { $date: '2026-11-27T10:00:00.000Z' },
  { $date: '2026-11-27T10:00:00Z' },
  { $date: '2026-11-27T10:00:00.123456+02:00' },
  { $date: { $numberLong: '1700000000000' } },
  { $oid: '5f1d7a2b9c8e4a3b2c1d0e9f' },
  { $numberDecimal: '19.99' },
  { $numberLong: '9007199254740993' },
  { $numberLong: '42' },
  { $numberInt: '42' },
  { $numberDouble: '1.5' },
  { $numberDouble: 'Infinity' },
  { $numberDouble: 'NaN' },
  { $binary: { base64: 'AQID', subType: '00' } },
  { $uuid: '123e4567-e89b-12d3-a456-426614174000' },
  { $timestamp: { t: 1, i: 2 } },
  { $regularExpression: { pattern: 'a+', options: 'i' } },
  { $minKey: 1 },
  { $maxKey: 1 },
];

/** Wrappers the contract says are refused ("a malformed or out-of-range one ... is refused"). */
const INVALID_EJSON: unknown[] = [
  { $date: '2026-02-30T10:00:00.000Z' },
  { $date: '2026-13-01T10:00:00.000Z' },
  { $date: 'tomorrow' },
  { $date: '2026-11-27' },
  { $date: '10000-01-01T00:00:00.000Z' },
  { $date: '2026-11-27T10:00:00.000Z', x: 1 },
  { $oid: 'nope' },
  { $oid: 'zz1d7a2b9c8e4a3b2c1d0e9f' },
  { $oid: '5f1d7a2b9c8e4a3b2c1d0e9' },
  { $numberLong: '123456789012345678901' },
  { $numberLong: 'abc' },
  { $numberLong: null },
  { $numberInt: '2147483648' },
  { $numberInt: 'x' },
  { $numberDouble: 'abc' },
  { $numberDecimal: 'x' },
  { $numberDecimal: '1'.repeat(40) },
  { $binary: { base64: '!!!!', subType: '00' } },
  { $binary: { base64: 'AQID', subType: 'zz' } },
  { $binary: { base64: 'AQID' } },
  { $uuid: 'not-a-uuid' },
  { $timestamp: { t: 'x', i: 0 } },
  { $regularExpression: { pattern: 'a' } },
  { $minKey: 2 },
  { $foo: 1 },
  { $where: 'sleep(1000)' },
  { $set: { a: 1 } },
  { $date: { $numberLong: 'x' } },
];

const INVALID_TIMESTAMPS: unknown[] = [
  '2026-02-30T10:00:00.000Z-0001',
  '2025-02-29T10:00:00.000Z-0001',
  '2026-11-26T24:00:00.000Z-0001',
  '2026-11-26T23:59:60.000Z-0001',
  '2026-13-01T10:00:00.000Z-0001',
  '2026-11-00T10:00:00.000Z-0001',
  '2026-11-26T10:00:00Z-0001',
  '2026-11-26T10:00:00.000Z',
  '2026-11-26T10:00:00.000Z-001',
  '2026-11-26T10:00:00.000Z-00001',
  '2026-11-26T10:00:00.000z-0001',
  '2026-11-26T10:00:00.000+00:00-0001',
  ' 2026-11-26T10:00:00.000Z-0001',
  '2026-11-26T10:00:00.000Z-0001 ',
  '2026-11-26 10:00',
  '+02026-11-26T10:00:00.000Z-0001',
  '9999-12-31T23:59:59.999Z-9999',
  '',
  0,
  1764409200000,
  true,
  null,
  {},
  ['2026-11-26T10:00:00.000Z-0001'],
];

const BAD_COLLECTIONS: unknown[] = [
  '$cars',
  '',
  'a'.repeat(65),
  '__sync_sessions',
  '__proto__',
  'cars.x',
  'cars ',
  '1cars',
  'cärs',
  "cars'; DROP TABLE documents; --",
  5,
  null,
  {},
];

/** Ids that are legal (1 to 256 characters) but odd. */
const ODD_IDS = [
  // Lone surrogates: refused (a store would give them back changed).
  '\ud800',
  '\udbff',
  'a\udc00b',
  '\u0000',
  'a|b',
  '../../etc/passwd',
  "'; DROP TABLE documents; --",
  '😀',
  ' ',
  '__proto__',
  'constructor',
  '%s%n',
  'x'.repeat(256),
];

export type Mutation =
  | { kind: 'version'; cs: number; value: unknown }
  | { kind: 'versionSkip'; cs: number; by: number }
  | { kind: 'versionRepeat'; cs: number }
  | { kind: 'timestamp'; cs: number; value: unknown }
  | { kind: 'timestampAhead'; cs: number; aheadMs: number }
  | { kind: 'badName'; cs: number; ch: number; name: string; depth: number; inArray: boolean }
  | { kind: 'emptyName'; cs: number; ch: number; depth: number }
  | { kind: 'oddName'; cs: number; ch: number; name: string; depth: number }
  | { kind: 'idField'; cs: number; ch: number; same: boolean }
  | { kind: 'deep'; cs: number; ch: number; depth: number; arrays: boolean }
  | { kind: 'hugeValue'; cs: number; ch: number; length: number; wide: boolean }
  | { kind: 'hugeId'; cs: number; ch: number; length: number }
  | { kind: 'oddId'; cs: number; ch: number; id: unknown }
  | { kind: 'collection'; cs: number; ch: number; value: unknown }
  | { kind: 'oddCollection'; cs: number; ch: number; value: string }
  | { kind: 'ejson'; cs: number; ch: number; valid: boolean; index: number; depth: number }
  | { kind: 'op'; cs: number; ch: number; value: unknown }
  | { kind: 'shape'; cs: number; ch: number; shape: string }
  | { kind: 'omitChange'; cs: number; ch: number; field: string }
  | { kind: 'omitChangeset'; cs: number; field: string }
  | { kind: 'omitVariable'; name: 's' | 'cs' }
  | { kind: 'wrongType'; cs: number; ch: number; field: string; value: unknown }
  | { kind: 'wrongChangesets'; value: unknown }
  | { kind: 'tooMany'; count: number }
  | { kind: 'session'; ref: SessionRef }
  | { kind: 'report'; field: 'latestClientVersion' | 'pendingBytes'; value: unknown }
  | { kind: 'extraField'; cs: number; ch: number; where: 'change' | 'changeset' }
  | { kind: 'number'; cs: number; ch: number; value: number };

const at = { cs: fc.nat(), ch: fc.nat() };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    kind: fc.constant('version' as const),
    cs: fc.nat(),
    value: fc.constantFrom(0, -1, -2147483648, 2147483648, 1.5, '1', null, true),
  }),
  fc.record({
    kind: fc.constant('versionSkip' as const),
    cs: fc.nat(),
    by: fc.integer({ min: 1, max: 2147483000 }),
  }),
  fc.record({ kind: fc.constant('versionRepeat' as const), cs: fc.nat() }),
  fc.record({
    kind: fc.constant('timestamp' as const),
    cs: fc.nat(),
    value: fc.constantFrom(...INVALID_TIMESTAMPS),
  }),
  fc.record({
    kind: fc.constant('timestampAhead' as const),
    cs: fc.nat(),
    aheadMs: fc.constantFrom(2 * 86_400_000, 400 * 86_400_000, 8000 * 365 * 86_400_000),
  }),
  fc.record({
    kind: fc.constant('badName' as const),
    ...at,
    name: fc.constantFrom(...BAD_NAMES),
    depth: fc.integer({ min: 0, max: 3 }),
    inArray: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant('emptyName' as const),
    ...at,
    depth: fc.integer({ min: 0, max: 2 }),
  }),
  fc.record({
    kind: fc.constant('oddName' as const),
    ...at,
    name: fc.constantFrom(...ODD_NAMES),
    depth: fc.integer({ min: 0, max: 2 }),
  }),
  fc.record({ kind: fc.constant('idField' as const), ...at, same: fc.boolean() }),
  fc.record({
    kind: fc.constant('deep' as const),
    ...at,
    depth: fc.constantFrom(10, 62, 63, 64, 65, 66, 100, 1000, 5000, 50_000),
    arrays: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant('hugeValue' as const),
    ...at,
    length: fc.constantFrom(1000, 60_000, 70_000, 300_000, 3_000_000),
    wide: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant('hugeId' as const),
    ...at,
    length: fc.constantFrom(0, 257, 5000, 1_000_000),
  }),
  fc.record({ kind: fc.constant('oddId' as const), ...at, id: fc.constantFrom(...ODD_IDS) }),
  fc.record({
    kind: fc.constant('collection' as const),
    ...at,
    value: fc.constantFrom(...BAD_COLLECTIONS),
  }),
  fc.record({
    kind: fc.constant('oddCollection' as const),
    ...at,
    value: fc.constantFrom(
      'sqlite_master',
      'documents',
      'history',
      'sessions',
      'Z',
      'a'.repeat(64),
    ),
  }),
  fc.record({
    kind: fc.constant('ejson' as const),
    ...at,
    valid: fc.boolean(),
    index: fc.nat(),
    depth: fc.integer({ min: 0, max: 2 }),
  }),
  fc.record({
    kind: fc.constant('op' as const),
    ...at,
    value: fc.constantFrom('UPSERT', 'insert', '', 'REMOVE', 5, null),
  }),
  fc.record({
    kind: fc.constant('shape' as const),
    ...at,
    shape: fc.constantFrom(
      'INSERT without document',
      'INSERT with set',
      'UPDATE with document',
      'UPDATE with nothing',
      'UPDATE with empty set',
      'UPDATE with _id in set',
      'UPDATE unsetting _id',
      'DELETE with document',
      'DELETE with set',
      'DELETE with unset',
    ),
  }),
  fc.record({
    kind: fc.constant('omitChange' as const),
    ...at,
    field: fc.constantFrom('collection', 'id', 'op'),
  }),
  fc.record({
    kind: fc.constant('omitChangeset' as const),
    cs: fc.nat(),
    field: fc.constantFrom('clientVersion', 'timestamp', 'changes'),
  }),
  fc.record({ kind: fc.constant('omitVariable' as const), name: fc.constantFrom('s', 'cs') }),
  fc.record({
    kind: fc.constant('wrongType' as const),
    ...at,
    field: fc.constantFrom('document', 'set', 'unset', 'id', 'changes'),
    value: fc.constantFrom([1, 2], 'str', 5, 1.5, true, [null], [1], {}, { a: 1 }, ''),
  }),
  fc.record({
    kind: fc.constant('wrongChangesets' as const),
    value: fc.constantFrom('x', 5, null, {}, [null], [[]], [5]),
  }),
  fc.record({ kind: fc.constant('tooMany' as const), count: fc.constantFrom(51, 200, 5000) }),
  fc.record({
    kind: fc.constant('session' as const),
    ref: fc.constantFrom<SessionRef>('other', 'missing', 'empty', 'closed'),
  }),
  fc.record({
    kind: fc.constant('report' as const),
    field: fc.constantFrom('latestClientVersion' as const, 'pendingBytes' as const),
    value: fc.constantFrom(-1, 1.5, 2147483648, 'x', 1e300, 0, null, 12.5),
  }),
  fc.record({
    kind: fc.constant('extraField' as const),
    ...at,
    where: fc.constantFrom('change' as const, 'changeset' as const),
  }),
  fc.record({
    kind: fc.constant('number' as const),
    ...at,
    value: fc.constantFrom(1e308, -1e308, 5e-324, 2 ** 53 + 1, -0, 2 ** 64),
  }),
);

export const uploadCase: fc.Arbitrary<UploadCase> = fc
  .tuple(validUpload, fc.array(mutation, { maxLength: 3 }))
  .map(([changesets, mutations]) => {
    const c: UploadCase = {
      session: 'own',
      changesets: structuredClone(changesets),
      omit: [],
      labels: [],
      mustRefuse: false,
    };
    const claims = new Map<string, boolean>();
    for (const m of mutations) mutate(c, m, claims);
    c.mustRefuse = [...claims.values()].some(Boolean);
    return c;
  });

// ---------------------------------------------------------------------------------------------

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function defineField(target: Obj, name: string, value: unknown): void {
  Object.defineProperty(target, name, {
    value,
    enumerable: true,
    configurable: true,
    writable: true,
  });
}

/** Where a mutation aims: a changeset and maybe a change (indexes modulo the lengths). */
interface Target {
  changeset: ChangesetCase;
  change: Obj;
  /** The slot prefix of the changeset (`c1`) or the change (`c1.h0`). */
  slot: string;
  index: number;
}

function target(c: UploadCase, cs: number): Omit<Target, 'change'> | undefined;
function target(c: UploadCase, cs: number, ch: number): Target | undefined;
function target(c: UploadCase, cs: number, ch?: number) {
  if (!Array.isArray(c.changesets) || c.changesets.length === 0) return undefined;
  const index = cs % c.changesets.length;
  const changeset = c.changesets[index] as ChangesetCase;
  if (!isObj(changeset)) return undefined;
  if (ch === undefined) return { changeset, index, slot: `c${index}` };
  if (!Array.isArray(changeset.changes) || changeset.changes.length === 0) return undefined;
  const j = ch % changeset.changes.length;
  const change = changeset.changes[j] as unknown;
  if (!isObj(change)) return undefined;
  return { changeset, change, index, slot: `c${index}.h${j}` };
}

/** The object a change writes fields into (an INSERT's document, an UPDATE's set), if any. */
function body(change: Obj): Obj | undefined {
  if (change.op === 'INSERT') return isObj(change.document) ? change.document : undefined;
  if (change.op === 'UPDATE') {
    // An UPDATE with neither set nor unset stays without: a set made here would make valid an
    // UPDATE another mutation made with nothing (and claimed refused).
    if (change.set === undefined || change.set === null) {
      if (change.unset === undefined || change.unset === null) return undefined;
      change.set = {};
    }
    return isObj(change.set) ? change.set : undefined;
  }
  return undefined;
}

/** A field name not yet in `node`. */
function freshKey(node: Obj, base: string): string {
  let key = base;
  for (let i = 1; Object.prototype.hasOwnProperty.call(node, key); i++) key = `${base}${i}`;
  return key;
}

/**
 * Puts `name: value` `depth` levels under a fresh field of `into` (the last level in an
 * array if asked); at depth 0, `name` itself (fresh unless `exact`). Returns the top field.
 */
function plant(into: Obj, depth: number, name: string, value: unknown, inArray = false): string {
  if (depth === 0) {
    defineField(into, name, value);
    return name;
  }
  const top = freshKey(into, 'n');
  let node = into;
  for (let i = 0; i < depth; i++) {
    const child: Obj = {};
    const key = i === 0 ? top : `n${i}`;
    defineField(node, key, inArray && i === depth - 1 ? [child] : child);
    node = child;
  }
  defineField(node, name, value);
  return top;
}

/**
 * Applies one mutation. Each claims a slot (what it changed: a changeset's version, a change's
 * id, one planted field...) with whether the contract requires a refusal; a later mutation that
 * replaces what an earlier one changed drops that claim. The case must be refused when any
 * claim left says so.
 */
function mutate(c: UploadCase, m: Mutation, claims: Map<string, boolean>): void {
  const claim = (slot: string, text: string, refuse: boolean) => {
    c.labels.push(text);
    claims.set(slot, refuse);
  };
  const clear = (prefix: string) => {
    for (const slot of [...claims.keys()]) if (slot.startsWith(prefix)) claims.delete(slot);
  };
  switch (m.kind) {
    case 'version': {
      const t = target(c, m.cs);
      if (!t) break;
      t.changeset.clientVersion = { raw: m.value };
      claim(`${t.slot}.version`, `clientVersion ${JSON.stringify(m.value)}`, true);
      break;
    }
    case 'versionSkip': {
      const t = target(c, m.cs);
      if (!t || t.index > 0) break; // a skip is only sure for the first changeset
      t.changeset.clientVersion = { next: m.by };
      claim(`${t.slot}.version`, `clientVersion next+${m.by}`, true);
      break;
    }
    case 'versionRepeat': {
      const t = target(c, m.cs);
      if (!t || t.index === 0) break;
      t.changeset.clientVersion = { next: t.index - 1 };
      claim(`${t.slot}.version`, `changesets[${t.index}] repeats the previous clientVersion`, true);
      break;
    }
    case 'timestamp': {
      const t = target(c, m.cs);
      if (!t) break;
      t.changeset.timestamp = { raw: m.value };
      claim(`${t.slot}.timestamp`, `timestamp ${JSON.stringify(m.value)}`, true);
      break;
    }
    case 'timestampAhead': {
      const t = target(c, m.cs);
      if (!t) break;
      t.changeset.timestamp = { agoMs: -m.aheadMs, counter: 1 };
      claim(`${t.slot}.timestamp`, `timestamp ${m.aheadMs} ms ahead`, true);
      break;
    }
    case 'badName': {
      const t = target(c, m.cs, m.ch);
      if (!t) break;
      if (t.change.op === 'UPDATE' && m.depth === 0 && m.inArray) {
        const unset = Array.isArray(t.change.unset) ? (t.change.unset as unknown[]) : [];
        t.change.unset = [...unset, m.name];
        claim(`${t.slot}.unset.${unset.length}`, `unset "${m.name}"`, true);
        break;
      }
      const into = body(t.change);
      if (!into) break;
      const top = plant(into, m.depth, m.name, 1, m.inArray);
      const where = `${m.depth}${m.inArray ? ' in an array' : ''}`;
      claim(`${t.slot}.body.${top}`, `field name "${m.name}" at depth ${where}`, true);
      break;
    }
    case 'emptyName': {
      const t = target(c, m.cs, m.ch);
      const into = t && body(t.change);
      if (!t || !into) break;
      const top = plant(into, m.depth, '', 1);
      // Only a top-level "" is refused by name (validateFieldName); nested, it is legal.
      claim(`${t.slot}.body.${top}`, `field name "" at depth ${m.depth}`, m.depth === 0);
      break;
    }
    case 'oddName': {
      const t = target(c, m.cs, m.ch);
      const into = t && body(t.change);
      if (!t || !into) break;
      const top = plant(into, m.depth, m.name, { v: 1 });
      claim(`${t.slot}.body.${top}`, `field name "${m.name}" at depth ${m.depth}`, false);
      break;
    }
    case 'idField': {
      const t = target(c, m.cs, m.ch);
      if (!t || t.change.op !== 'INSERT' || !isObj(t.change.document)) break;
      t.change.document._id = m.same ? t.change.id : `${String(t.change.id)}-other`;
      const text = m.same ? 'document._id equal to the id' : 'document._id not the id';
      claim(`${t.slot}.body._id`, text, !m.same);
      break;
    }
    case 'deep': {
      const t = target(c, m.cs, m.ch);
      const into = t && body(t.change);
      if (!t || !into) break;
      const n = m.depth;
      const json = m.arrays
        ? '['.repeat(n) + ']'.repeat(n)
        : '{"d":'.repeat(n - 1) + '{}' + '}'.repeat(n - 1);
      const kind = m.arrays ? 'arrays' : 'objects';
      const key = freshKey(into, 'deep');
      defineField(into, key, new RawJson(json, `<${n} nested ${kind}>`));
      // 64 is the limit; whether 64 or 65 levels pass depends on how one counts.
      claim(`${t.slot}.body.${key}`, `a value nested ${n} levels`, n >= 66);
      break;
    }
    case 'hugeValue': {
      const t = target(c, m.cs, m.ch);
      const into = t && body(t.change);
      if (!t || !into) break;
      const unit = m.wide ? '😀' : 'x';
      const bytes = m.length * (m.wide ? 4 : 1);
      const key = freshKey(into, 'huge');
      const value = new RawJson(JSON.stringify(unit.repeat(m.length)), `<"${unit}" x ${m.length}>`);
      defineField(into, key, value);
      claim(`${t.slot}.body.${key}`, `a ${bytes}-byte string`, bytes > 65_536);
      break;
    }
    case 'hugeId': {
      const t = target(c, m.cs, m.ch);
      if (!t) break;
      t.change.id = new RawJson(JSON.stringify('i'.repeat(m.length)), `<id of ${m.length}>`);
      if (isObj(t.change.document)) delete t.change.document._id;
      clear(`${t.slot}.body._id`);
      claim(`${t.slot}.id`, `an id of ${m.length} characters`, true);
      break;
    }
    case 'oddId': {
      const t = target(c, m.cs, m.ch);
      if (!t) break;
      t.change.id = m.id;
      if (isObj(t.change.document)) delete t.change.document._id;
      clear(`${t.slot}.body._id`);
      clear(`${t.slot}.omit.id`);
      const loneSurrogate = typeof m.id === 'string' && /\p{Cs}/u.test(m.id);
      claim(`${t.slot}.id`, `id ${JSON.stringify(m.id)}`, loneSurrogate);
      break;
    }
    case 'collection': {
      const t = target(c, m.cs, m.ch);
      if (!t) break;
      t.change.collection = m.value;
      claim(`${t.slot}.collection`, `collection ${JSON.stringify(m.value)}`, true);
      break;
    }
    case 'oddCollection': {
      const t = target(c, m.cs, m.ch);
      if (!t) break;
      t.change.collection = m.value;
      clear(`${t.slot}.omit.collection`);
      claim(`${t.slot}.collection`, `collection ${m.value}`, false);
      break;
    }
    case 'ejson': {
      const t = target(c, m.cs, m.ch);
      const into = t && body(t.change);
      if (!t || !into) break;
      const list = m.valid ? VALID_EJSON : INVALID_EJSON;
      const wrapper = structuredClone(list[m.index % list.length]);
      const top = plant(into, m.depth, freshKey(into, 'ej'), wrapper);
      const text = `${m.valid ? 'valid' : 'invalid'} Extended JSON ${JSON.stringify(wrapper)}`;
      claim(`${t.slot}.body.${top}`, text, !m.valid);
      break;
    }
    case 'op': {
      const t = target(c, m.cs, m.ch);
      if (!t) break;
      t.change.op = m.value;
      claim(`${t.slot}.op`, `op ${JSON.stringify(m.value)}`, true);
      break;
    }
    case 'shape': {
      const t = target(c, m.cs, m.ch);
      if (!t) break;
      for (const part of ['body', 'unset', 'op', 'shape', 'set', 'document', 'omit.op']) {
        clear(`${t.slot}.${part}`);
      }
      claim(`${t.slot}.shape`, m.shape, reshape(t.change, m.shape));
      break;
    }
    case 'omitChange': {
      const t = target(c, m.cs, m.ch);
      if (!t) break;
      delete t.change[m.field];
      claim(`${t.slot}.omit.${m.field}`, `no ${m.field}`, true);
      break;
    }
    case 'omitChangeset': {
      const t = target(c, m.cs);
      if (!t) break;
      delete t.changeset[m.field];
      claim(`${t.slot}.omit.${m.field}`, `changeset without ${m.field}`, true);
      break;
    }
    case 'omitVariable':
      if (c.omit.includes(m.name)) break;
      c.omit.push(m.name);
      claim(`omit.${m.name}`, `no $${m.name}`, true);
      break;
    case 'wrongType': {
      const t = target(c, m.cs, m.ch);
      if (!t) break;
      const refuse = wrongType(t.change, t.changeset, m.field, m.value);
      if (refuse === undefined) break;
      if (m.field === 'document' || m.field === 'set') clear(`${t.slot}.body`);
      if (m.field === 'id') {
        clear(`${t.slot}.id`);
        clear(`${t.slot}.omit.id`);
      }
      if (m.field === 'unset') clear(`${t.slot}.unset`);
      claim(`${t.slot}.${m.field}`, `${m.field}: ${JSON.stringify(m.value)}`, refuse);
      break;
    }
    case 'wrongChangesets':
      c.changesets = structuredClone(m.value);
      // `{}` coerces to a list of one changeset without its fields; [[]] to a list in a list.
      claim('changesets', `changesets: ${JSON.stringify(m.value)}`, true);
      break;
    case 'tooMany': {
      const t = target(c, 0, 0);
      if (!t) break;
      // Small changes beside the one aimed at (copies of it could be megabytes each).
      const small = () => ({ collection: 'cars', id: 'many', op: 'DELETE' });
      t.changeset.changes = [t.change, ...Array.from({ length: m.count - 1 }, small)];
      claim('tooMany', `${m.count} changes in one upload`, true);
      break;
    }
    case 'session':
      c.session = m.ref;
      claim('session', `session ${m.ref}`, true);
      break;
    case 'report': {
      c[m.field] = m.value;
      const bad =
        typeof m.value !== 'number'
          ? m.value !== null
          : m.value < 0 ||
            (m.field === 'latestClientVersion' &&
              (!Number.isInteger(m.value) || m.value > 2147483647)) ||
            m.value > Number.MAX_SAFE_INTEGER;
      claim(`report.${m.field}`, `${m.field} ${JSON.stringify(m.value)}`, bad);
      break;
    }
    case 'extraField': {
      const t = target(c, m.cs, m.ch);
      if (!t) break;
      const obj = m.where === 'change' ? t.change : t.changeset;
      obj.unknownField = 1;
      claim(
        `${m.where === 'change' ? t.slot : `c${t.index}`}.extra`,
        `an unknown ${m.where} field`,
        true,
      );
      break;
    }
    case 'number': {
      const t = target(c, m.cs, m.ch);
      const into = t && body(t.change);
      if (!t || !into) break;
      const key = freshKey(into, 'num');
      defineField(into, key, m.value);
      claim(`${t.slot}.body.${key}`, `number ${m.value}`, false);
      break;
    }
  }
}

/** Gives a change a shape its op does not take; returns whether that must be refused. */
function reshape(ch: Obj, shape: string): boolean {
  const [op] = shape.split(' ');
  const id = ch.id;
  for (const k of Object.keys(ch)) if (k !== 'collection' && k !== 'id') delete ch[k];
  ch.op = op;
  ch.id = id;
  switch (shape) {
    case 'INSERT without document':
      return true;
    case 'INSERT with set':
      ch.document = { ownerId: 'alice' };
      ch.set = { a: 1 };
      return true;
    case 'UPDATE with document':
      ch.document = { ownerId: 'alice' };
      ch.set = { a: 1 };
      return true;
    case 'UPDATE with nothing':
      return true;
    case 'UPDATE with empty set':
      ch.set = {};
      return false;
    case 'UPDATE with _id in set':
      ch.set = { _id: 'x' };
      return true;
    case 'UPDATE unsetting _id':
      ch.unset = ['_id'];
      return true;
    case 'DELETE with document':
      ch.document = { ownerId: 'alice' };
      return true;
    case 'DELETE with set':
      ch.set = { a: 1 };
      return true;
    case 'DELETE with unset':
      ch.unset = ['a'];
      return true;
  }
  throw new Error(`no shape ${shape}`);
}

/** Puts a value of another type in a field; returns whether that must be refused. */
function wrongType(ch: Obj, cs: ChangesetCase, field: string, value: unknown): boolean | undefined {
  const v = structuredClone(value);
  switch (field) {
    case 'document':
      if (ch.op !== 'INSERT') return undefined;
      ch.document = v;
      // Only a JSON object is a document ({} is one, and owner-less: a compensating write).
      return !isObj(v);
    case 'set':
      if (ch.op !== 'UPDATE') return undefined;
      ch.set = v;
      return !isObj(v);
    case 'unset':
      if (ch.op !== 'UPDATE') return undefined;
      ch.unset = v;
      // GraphQL coerces a lone string to a list of one ("" is no field name; "str" is one).
      return !(typeof v === 'string' && v !== '');
    case 'id':
      ch.id = v;
      // ID takes strings and integers; "" is too short.
      return !((typeof v === 'string' && v !== '') || Number.isInteger(v));
    case 'changes':
      cs.changes = v;
      // A lone object coerces to a list of one change, which lacks its fields.
      return true;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Resolving a case into the request's variables

export interface UploadTargets {
  sessions: Record<Exclude<SessionRef, 'empty' | 'missing'>, string>;
  /** The own session's next client version. */
  next: number;
  now: number;
}

const hlcText = (ms: number, counter: number) =>
  `${new Date(ms).toISOString()}-${String(counter).padStart(4, '0')}`;

export function uploadVariables(c: UploadCase, t: UploadTargets): Record<string, unknown> {
  const s =
    c.session === 'empty' ? '' : c.session === 'missing' ? 'ses_missing' : t.sessions[c.session];
  const cs = Array.isArray(c.changesets)
    ? c.changesets.map((x: unknown) => {
        if (!isObj(x)) return x;
        const out: Obj = { ...x };
        const v = x.clientVersion as VersionSpec | undefined;
        if (v !== undefined) out.clientVersion = 'raw' in v ? v.raw : t.next + v.next;
        const ts = x.timestamp as TimeSpec | undefined;
        if (ts !== undefined) {
          const ms = 'raw' in ts ? undefined : Math.min(t.now - ts.agoMs, 253402300799999);
          out.timestamp = 'raw' in ts ? ts.raw : hlcText(ms!, ts.counter);
        }
        return out;
      })
    : c.changesets;
  const variables: Obj = {};
  if (!c.omit.includes('s')) variables.s = s;
  if (!c.omit.includes('cs')) variables.cs = cs;
  if ('latestClientVersion' in c) variables.latest = c.latestClientVersion;
  if ('pendingBytes' in c) variables.pending = c.pendingBytes;
  return variables;
}

export const UPLOAD = `mutation Upload($s: ID!, $cs: [ChangesetInput!]!, $latest: Int, $pending: Float) {
  uploadChanges(sessionId: $s, changesets: $cs, latestClientVersion: $latest, pendingBytes: $pending) {
    lastIntegratedClientVersion serverVersion compensatingWrites { collection id reason document }
  }
}`;

/** The (collection, id) of each INSERT of a resolved upload, for the durability check. */
export function insertedKeys(variables: Record<string, unknown>): [string, string][] {
  const out: [string, string][] = [];
  if (!Array.isArray(variables.cs)) return out;
  for (const cs of variables.cs as unknown[]) {
    if (!isObj(cs) || !Array.isArray(cs.changes)) continue;
    for (const ch of cs.changes as unknown[]) {
      if (isObj(ch) && ch.op === 'INSERT' && typeof ch.collection === 'string') {
        if (typeof ch.id === 'string' || typeof ch.id === 'number') {
          out.push([ch.collection, String(ch.id)]);
        }
      }
    }
  }
  return out;
}
