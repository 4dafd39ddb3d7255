/**
 * Payloads serialized once: what a socket sends is byte for byte what graphql-ws sends
 * with its own serialization, for shared results, results with errors, and the messages
 * without a payload.
 */
import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { SharedJson } from '../src/server/shared-json.js';

/** graphql-ws's own `next` message for `result` (errors last, each through toJSON). */
function graphqlWsNext(id: string, result: { errors?: GraphQLError[]; data?: unknown }) {
  const { errors, ...rest } = result;
  const payload = { ...rest, ...(errors ? { errors: errors.map((e) => e.toJSON()) } : {}) };
  return JSON.stringify({ id, type: 'next', payload });
}

const send = (json: SharedJson, message: object) =>
  String(json.encoded(JSON.stringify(message, json.replacer)));

describe('SharedJson', () => {
  it('sends every socket the bytes graphql-ws would, serializing a shared result once', () => {
    const json = new SharedJson();
    const result = { data: { changes: { text: 'a "quoted"\u2028 line', n: [1, 2.5, null] } } };
    let walks = 0;
    const counted = {
      ...result,
      get data() {
        walks += 1;
        return result.data;
      },
    };
    for (const id of ['1', 'op-2', '"odd"']) {
      expect(send(json, { id, type: 'next', payload: counted })).toBe(graphqlWsNext(id, result));
    }
    expect(walks).toBe(1);
  });

  it('writes a result with errors as graphql-ws does: data first, errors last', () => {
    const json = new SharedJson();
    const error = new GraphQLError('boom', { extensions: { code: 'CLIENT_RESET_REQUIRED' } });
    const result = { errors: [error], data: null };
    expect(send(json, { id: '7', type: 'next', payload: result })).toBe(graphqlWsNext('7', result));
  });

  it('leaves messages without an object payload as they are', () => {
    const json = new SharedJson();
    for (const message of [
      { type: 'complete', id: '3' },
      { type: 'connection_ack' },
      { type: 'pong', payload: undefined },
    ]) {
      expect(send(json, message)).toBe(JSON.stringify(message));
    }
    const errors = [{ message: 'no', extensions: { code: 'FORBIDDEN' } }];
    const error = { id: '4', type: 'error', payload: errors };
    expect(send(json, error)).toBe(JSON.stringify(error));
  });

  it('gives the bytes of the same messages, the payload encoded once from its second use', () => {
    const json = new SharedJson();
    const result = { data: { changes: { text: 'é "quoted"\u2028 ☃', n: [1, 2.5, null] } } };
    const sent = ['1', 'op-2', 'é3'].map((id) =>
      json.encoded(JSON.stringify({ id, type: 'next', payload: result }, json.replacer)),
    );
    expect(typeof sent[0]).toBe('string');
    expect(sent.slice(1).every((m) => Buffer.isBuffer(m))).toBe(true);
    expect(sent.map((m) => m.toString())).toEqual(
      ['1', 'op-2', 'é3'].map((id) => graphqlWsNext(id, result)),
    );
    expect(json.encoded('{"type":"ping"}')).toBe('{"type":"ping"}');
  });

  it('never puts one payload into another message', () => {
    const json = new SharedJson();
    JSON.stringify({ id: '1', type: 'next', payload: { data: 1 } }, json.replacer);
    // That string was never sent; the next message must not receive its payload.
    expect(json.encoded('{"type":"ping"}')).toBe('{"type":"ping"}');
  });
});
