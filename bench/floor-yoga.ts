/**
 * The memory floor: graphql-yoga with graphql-ws (`useServer` from graphql-ws/use/ws, wired
 * as Yoga's documentation shows) and one trivial subscription, `tick`, which sends one
 * value and then stays open. What a socket with one subscription costs in that stack.
 */
import { Repeater } from '@repeaterjs/repeater';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ExecutionArgs, GraphQLSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { createSchema, createYoga } from 'graphql-yoga';
import { WebSocketServer } from 'ws';

const schema = createSchema({
  typeDefs: `type Query { hello: String } type Subscription { tick: Int! }`,
  resolvers: {
    Subscription: {
      tick: {
        subscribe: () =>
          new Repeater<number>(async (push, stop) => {
            await push(0);
            await stop;
          }),
        resolve: (value: number) => value,
      },
    },
  },
});

type Enveloped = ReturnType<ReturnType<typeof createYoga>['getEnveloped']>;

export interface YogaServer {
  wsUrl: string;
  close(): Promise<void>;
}

/** Serves `schema` through graphql-yoga and graphql-ws, wired as Yoga's documentation shows. */
export async function serveYoga(schema: GraphQLSchema): Promise<YogaServer> {
  const yoga = createYoga({ schema, logging: false });
  const http = createServer(yoga);
  const wss = new WebSocketServer({ server: http, path: yoga.graphqlEndpoint });
  useServer(
    {
      execute: (args) => (args.rootValue as Enveloped).execute(args),
      subscribe: (args) => (args.rootValue as Enveloped).subscribe(args),
      onSubscribe: async (ctx, _id, params) => {
        const enveloped = yoga.getEnveloped({ ...ctx, req: ctx.extra.request, params });
        const args: ExecutionArgs = {
          schema: enveloped.schema,
          operationName: params.operationName,
          document: enveloped.parse(params.query),
          variableValues: params.variables,
          contextValue: await enveloped.contextFactory(),
          rootValue: enveloped,
        };
        const errors = enveloped.validate(args.schema, args.document);
        return errors.length ? errors : args;
      },
    },
    wss,
  );
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const wsUrl = `ws://127.0.0.1:${(http.address() as AddressInfo).port}${yoga.graphqlEndpoint}`;
  const close = async () => {
    for (const client of wss.clients) client.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    await new Promise<void>((resolve) => http.close(() => resolve()));
  };
  return { wsUrl, close };
}

export async function startYogaFloor(): Promise<string> {
  return (await serveYoga(schema)).wsUrl;
}
