/**
 * The GraphQL floor of scenarios 1 and 1b: graphql-yoga with graphql-ws (floor-yoga.ts)
 * serving the gateway's own schema (schema.graphql) with resolvers that do nothing:
 * `openSession` answers an id, `uploadChanges` acknowledges every changeset at once, with no
 * session, validation, rule or store. What the GraphQL stack alone costs per upload (the
 * message parsed, the operation validated from the cache, the variables coerced against the
 * same input types, the ack executed and serialized) on the same sockets and load.
 */
import { readFileSync } from 'node:fs';
import { createSchema } from 'graphql-yoga';
import { serveYoga, type YogaServer } from './floor-yoga.js';

interface ChangesetArg {
  clientVersion: number;
  changes: unknown[];
}

export interface UploadFloor extends YogaServer {
  /** Changes acknowledged so far. */
  changes(): number;
}

export async function startUploadFloor(): Promise<UploadFloor> {
  let version = 0;
  const schema = createSchema({
    typeDefs: readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8'),
    resolvers: {
      Mutation: {
        openSession: (_: unknown, args: { input: { clientId: string } }) => ({
          id: `floor-${args.input.clientId}`,
        }),
        uploadChanges: (_: unknown, args: { changesets: ChangesetArg[] }) => {
          for (const c of args.changesets) version += c.changes.length;
          return {
            lastIntegratedClientVersion: args.changesets.at(-1)?.clientVersion ?? 0,
            serverVersion: version,
            compensatingWrites: [],
          };
        },
      },
    },
  });
  const server = await serveYoga(schema);
  return { ...server, changes: () => version };
}
