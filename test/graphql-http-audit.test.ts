/**
 * The GraphQL over HTTP specification's audits (graphql-http's `serverAudits`) against the
 * gateway with its production hardening (CSRF prevention, armor limits): every MUST passes.
 * Introspection is on here because one MUST audit asks `__type` itself. The MAY audits
 * that send a GET without a preflight header fail on purpose (CSRF prevention), and pass
 * with `x-graphql-csrf`.
 */
import { serverAudits } from 'graphql-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from './helpers/gateway.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ env: { NODE_ENV: 'production', INTROSPECTION: 'true' } });
});
afterAll(() => gw.close());

type Fetch = typeof fetch;
const withPreflight: Fetch = (input, init = {}) =>
  fetch(input, { ...init, headers: { ...(init.headers as object), 'x-graphql-csrf': '1' } });

async function audit(fetchFn: Fetch) {
  const audits = serverAudits({ url: gw.gateway.url, fetchFn });
  const results = await Promise.all(audits.map(async (a) => ({ ...a, result: await a.fn() })));
  const failed = results.filter((a) => a.result.status !== 'ok');
  return { results, failed: failed.map((a) => `${a.id} ${a.name}`) };
}

describe('graphql-http audits', () => {
  it('passes every MUST audit; only GET audits without a preflight header fail', async () => {
    const { results, failed } = await audit(fetch);
    expect(results.length).toBeGreaterThan(50);
    expect(results.filter((a) => a.name.startsWith('MUST ')).length).toBeGreaterThan(10);
    expect(failed.filter((name) => / MUST /.test(name))).toEqual([]);
    expect(failed.every((name) => /GET/.test(name))).toBe(true);
  });

  it('passes every audit when requests carry the preflight header', async () => {
    expect((await audit(withPreflight)).failed).toEqual([]);
  });
});
