/**
 * A collection with a JSON Schema in the rules file: the real gateway refuses uploads that
 * do not match it with BAD_USER_INPUT naming the field, and writes nothing of them; a
 * collection without one takes anything, as before.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from './helpers/gateway.js';
import { SyncTestClient, type ChangeInput } from './helpers/sync-client.js';

const DATE = {
  type: 'object',
  required: ['$date'],
  properties: { $date: { type: 'string' } },
  additionalProperties: false,
};

const RULES = {
  collections: {
    cars: {
      read: true,
      write: true,
      schema: {
        title: 'Car',
        type: 'object',
        required: ['model', 'price'],
        additionalProperties: false,
        properties: {
          model: { type: 'string', minLength: 1 },
          price: { type: 'number', minimum: 0 },
          tags: { type: 'array', items: { type: 'string' } },
          color: { enum: ['red', 'blue'] },
          soldAt: { $ref: '#/definitions/date' },
        },
        definitions: { date: DATE },
      },
    },
    notes: { read: true, write: true },
  },
};

let gw: TestGateway;
let dir: string;
let clients = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'schema-rules-'));
  writeFileSync(join(dir, 'rules.json'), JSON.stringify(RULES));
  gw = await startTestGateway({ env: { RULES_FILE: join(dir, 'rules.json') } });
});
afterAll(async () => {
  await gw.close();
  rmSync(dir, { recursive: true, force: true });
});

async function client(): Promise<SyncTestClient> {
  const c = new SyncTestClient(gw.ws(await gw.token('alice')), `schema-${++clients}`);
  await c.open([{ collection: 'cars' }, { collection: 'notes' }]);
  return c;
}

const car = (id: string, document: Record<string, unknown>): ChangeInput => ({
  collection: 'cars',
  id,
  op: 'INSERT',
  document,
});
const update = (id: string, set?: Record<string, unknown>, unset?: string[]): ChangeInput => ({
  collection: 'cars',
  id,
  op: 'UPDATE',
  ...(set ? { set } : {}),
  ...(unset ? { unset } : {}),
});

const stored = async (collection: string, id: string) =>
  (await gw.gateway.core.store.getDocuments([{ collection, id }]))[0]?.doc;

/** The upload is refused naming `field`; the session integrated nothing past `integrated`. */
async function expectRefused(
  c: SyncTestClient,
  changes: ChangeInput[],
  message: string,
  integrated = 0,
) {
  const r = await c.upload(changes);
  c.clientVersion -= 1; // the refused changeset was never integrated: its number is free again
  expect(r.data).toBeNull();
  expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  expect(r.errors?.[0]?.message).toBe(message);
  const [session] = await gw.gateway.core.store.getSessions([c.sessionId]);
  expect(session?.lastIntegratedClientVersion).toBe(integrated);
}

describe('a collection with a schema', () => {
  it('takes an insert that matches, a date as its Extended JSON wrapper included', async () => {
    const c = await client();
    const doc = {
      model: 'Zoe',
      price: 9000,
      tags: ['ev'],
      soldAt: { $date: '2026-11-27T10:00:00Z' },
    };
    const r = await c.upload([car('ok', doc)]);
    expect(r.errors).toBeUndefined();
    expect(await stored('cars', 'ok')).toEqual({
      _id: 'ok',
      ...doc,
      soldAt: { $date: '2026-11-27T10:00:00.000Z' },
    });
  });

  it('checks values after their Extended JSON normalisation ($numberInt is a number)', async () => {
    const c = await client();
    const r = await c.upload([car('int', { model: 'Up', price: { $numberInt: '12' } })]);
    expect(r.errors).toBeUndefined();
    expect(await stored('cars', 'int')).toEqual({ _id: 'int', model: 'Up', price: 12 });
  });

  it('refuses a whole upload when one insert does not match, naming the field', async () => {
    const c = await client();
    await expectRefused(
      c,
      [car('fine', { model: 'A', price: 1 }), car('bad', { model: 'B', price: 'cheap' })],
      'changesets[0].changes[1].document.price: must be number',
    );
    expect(await stored('cars', 'fine')).toBeUndefined();
    expect(await stored('cars', 'bad')).toBeUndefined();
  });

  it.each([
    ['a missing required field', { model: 'A' }, 'document.price: is required'],
    [
      'a nested value',
      { model: 'A', price: 1, tags: ['ok', 7] },
      'document.tags[1]: must be string',
    ],
    [
      'a field the schema does not have',
      { model: 'A', price: 1, wheels: 4 },
      "document.wheels: is not a field of the collection's schema (additionalProperties is false)",
    ],
    [
      'a value outside an enum',
      { model: 'A', price: 1, color: 'green' },
      'document.color: must be equal to one of the allowed values: "red", "blue"',
    ],
    [
      'a date that is not a date wrapper',
      { model: 'A', price: 1, soldAt: '2026-11-27' },
      'document.soldAt: must be object',
    ],
    [
      'another Extended JSON wrapper where a date is',
      { model: 'A', price: 1, soldAt: { $oid: '0123456789abcdef01234567' } },
      'document.soldAt.$date: is required',
    ],
  ])('refuses an insert with %s', async (_name, doc, field) => {
    const c = await client();
    await expectRefused(c, [car('x', doc)], `changesets[0].changes[0].${field}`);
    expect(await stored('cars', 'x')).toBeUndefined();
  });

  describe('an update', () => {
    const original = { model: 'Twingo', price: 5000 };
    async function withCar(id: string) {
      const c = await client();
      expect((await c.upload([car(id, original)])).errors).toBeUndefined();
      return c;
    }

    it('is taken when what it sets matches', async () => {
      const c = await withCar('u-ok');
      const r = await c.upload([update('u-ok', { price: 4500, color: 'red' }, ['tags'])]);
      expect(r.errors).toBeUndefined();
      expect(await stored('cars', 'u-ok')).toEqual({
        _id: 'u-ok',
        ...original,
        price: 4500,
        color: 'red',
      });
    });

    it('is refused when it sets a value of the wrong type', async () => {
      const c = await withCar('u-type');
      await expectRefused(
        c,
        [update('u-type', { model: 'Clio', price: -1 })],
        'changesets[0].changes[0].set.price: must be >= 0',
        1,
      );
      expect(await stored('cars', 'u-type')).toEqual({ _id: 'u-type', ...original });
    });

    it('is refused when it unsets a required field', async () => {
      const c = await withCar('u-unset');
      await expectRefused(
        c,
        [update('u-unset', undefined, ['tags', 'price'])],
        'changesets[0].changes[0].unset[1]: "price" is required by the collection\'s schema',
        1,
      );
      expect(await stored('cars', 'u-unset')).toEqual({ _id: 'u-unset', ...original });
    });

    it('is refused when it sets a field the schema does not have (additionalProperties false)', async () => {
      const c = await withCar('u-extra');
      await expectRefused(
        c,
        [update('u-extra', { wheels: 4 })],
        "changesets[0].changes[0].set.wheels: is not a field of the collection's schema (additionalProperties is false)",
        1,
      );
      expect(await stored('cars', 'u-extra')).toEqual({ _id: 'u-extra', ...original });
    });

    it("checks a set value through the schema's $ref (a date)", async () => {
      const c = await withCar('u-date');
      await expectRefused(
        c,
        [update('u-date', { soldAt: { $oid: '0123456789abcdef01234567' } })],
        'changesets[0].changes[0].set.soldAt.$date: is required',
        1,
      );
      const r = await c.upload([update('u-date', { soldAt: { $date: '2026-11-27T10:00:00Z' } })]);
      expect(r.errors).toBeUndefined();
      await expectRefused(
        c,
        [update('u-date', { soldAt: 5 })],
        'changesets[0].changes[0].set.soldAt: must be object',
        2,
      );
    });
  });
});

describe('a collection without a schema', () => {
  it('takes any document and any update, as before', async () => {
    const c = await client();
    const note = (op: 'INSERT' | 'UPDATE', body: Partial<ChangeInput>): ChangeInput => ({
      collection: 'notes',
      id: 'n',
      op,
      ...body,
    });
    const r = await c.upload([
      note('INSERT', { document: { price: 'cheap', tags: [1, { a: null }], anything: true } }),
      note('UPDATE', { set: { price: -1, more: 'x' }, unset: ['anything'] }),
    ]);
    expect(r.errors).toBeUndefined();
    expect(await stored('notes', 'n')).toEqual({
      _id: 'n',
      price: -1,
      tags: [1, { a: null }],
      more: 'x',
    });
  });
});
