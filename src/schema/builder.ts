/** The one Pothos builder. Session ids carry their type prefix, so they are global ids as-is. */
import SchemaBuilder from '@pothos/core';
import RelayPlugin from '@pothos/plugin-relay';
import type { GatewayContext } from './context.js';
import type { Json, JsonObject } from '../sync/model.js';

export const builder = new SchemaBuilder<{
  Context: GatewayContext;
  Scalars: {
    JSON: { Input: unknown; Output: Json | JsonObject };
    DateTime: { Input: Date; Output: Date | string };
    ID: { Input: string; Output: string };
  };
  DefaultFieldNullability: false;
}>({
  defaultFieldNullability: false,
  plugins: [RelayPlugin],
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    nodesQueryOptions: false,
    encodeGlobalID: (_typename, id) => String(id),
    // SyncSession is the only node type: an id of another shape finds no session (null).
    decodeGlobalID: (globalID) => ({ typename: 'SyncSession', id: globalID }),
  },
});

builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});
