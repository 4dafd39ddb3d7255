/**
 * `uploadChanges`: the client's changesets to the sync core, answered once durable. The
 * changesets are first taken from the client's rate budget (the server puts the limiter in
 * the context; see server/limits.ts): past it, LIMIT_EXCEEDED with `extensions.retryAfterMs`
 * and nothing is validated or written.
 */
import { builder } from '../schema/builder.js';
import { viewerOf } from '../schema/access.js';
import type { GatewayContext } from '../schema/context.js';
import { limitExceeded } from '../schema/limit-exceeded.js';
import { ChangesetInput, UploadAckRef } from '../schema/upload.js';
import type { RateLimiter } from '../session/rate-limit.js';
import { isAdmin } from '../sync/model.js';
import type { ChangesetInputLike } from '../sync/validate.js';

/** What the server adds to every operation's context for this resolver. */
export interface ChangesetLimitContext {
  /** Changesets per second per client id; null or absent: no limit. */
  changesetLimiter?: RateLimiter | null;
}

/**
 * The coerced changesets go to the sync core as they are: its validation reads a GraphQL
 * null like an absent field, and builds the changes it integrates afresh.
 */
const changesetsOf = (
  changesets: readonly (typeof ChangesetInput)['$inferInput'][],
): readonly ChangesetInputLike[] => changesets;

/**
 * Takes `count` changesets from the budget of the session's client; returns the session it
 * read, if it did (the sync core then does not read it again). A session the viewer may not
 * see is not counted (nobody drains another's budget): the sync core refuses it.
 */
async function takeChangesets(ctx: GatewayContext, sessionId: string, count: number) {
  const limiter = (ctx as GatewayContext & ChangesetLimitContext).changesetLimiter;
  if (!limiter || count === 0 || !ctx.viewer) return undefined;
  const session = await ctx.loaders.sessions.load(sessionId);
  if (!session || (session.userId !== ctx.viewer.id && !isAdmin(ctx.viewer))) return undefined;
  const decision = limiter.take(session.clientId, count);
  if (decision.ok) return session;
  throw limitExceeded(
    `changesets: client ${session.clientId} may upload at most ${limiter.ratePerSecond} changesets per second`,
    decision.retryAfterMs,
    !ctx.socketId,
  );
}

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
    resolve: async (_root, args, ctx) => {
      const loaded = await takeChangesets(ctx, args.sessionId, args.changesets.length);
      const report = {
        latestClientVersion: args.latestClientVersion,
        pendingBytes: args.pendingBytes,
      };
      const changesets = changesetsOf(args.changesets);
      return ctx.core.uploadChanges(viewerOf(ctx), args.sessionId, changesets, report, loaded);
    },
  }),
}));
