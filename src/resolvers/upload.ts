/** `uploadChanges`: the client's changesets to the sync core, answered once durable. */
import { builder } from '../schema/builder.js';
import { viewerOf } from '../schema/access.js';
import { ChangesetInput, UploadAckRef } from '../schema/upload.js';
import type { ChangesetInputLike } from '../sync/validate.js';

type ChangesetArg = (typeof ChangesetInput)['$inferInput'];

/** GraphQL's null for an absent `document` or `set` becomes undefined. */
const changesetOf = (cs: ChangesetArg): ChangesetInputLike => ({
  ...cs,
  changes: cs.changes.map((c) => ({
    ...c,
    document: c.document ?? undefined,
    set: c.set ?? undefined,
  })),
});

builder.mutationFields((t) => ({
  uploadChanges: t.field({
    type: UploadAckRef,
    description: 'Integrates changesets in order; answers only once they are durable.',
    args: {
      sessionId: t.arg.id({ required: true }),
      changesets: t.arg({ type: [ChangesetInput], required: true }),
      latestClientVersion: t.arg.int({
        description:
          'The newest changeset the client has made, sent or not (what waitForUpload waits for).',
      }),
      pendingBytes: t.arg.float({
        description: 'Bytes the client still has to send after this request (for upload progress).',
      }),
    },
    resolve: (_root, args, ctx) =>
      ctx.core.uploadChanges(viewerOf(ctx), args.sessionId, args.changesets.map(changesetOf), {
        latestClientVersion: args.latestClientVersion,
        pendingBytes: args.pendingBytes,
      }),
  }),
}));
