/** Reading one synced document by id (for GraphiQL and backend tools), under the read rules. */
import { validateCollection } from '../sync/validate.js';
import { builder } from '../schema/builder.js';
import { viewerOf } from '../schema/access.js';

builder.queryFields((t) => ({
  document: t.field({
    type: 'JSON',
    nullable: true,
    description: 'The current document, or null when it does not exist or you may not read it.',
    args: { collection: t.arg.string({ required: true }), id: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const viewer = viewerOf(ctx);
      validateCollection('collection', args.collection);
      const stored = await ctx.loaders.documents.load({ collection: args.collection, id: args.id });
      if (!stored?.doc) return null;
      return ctx.core.permissions(viewer).canRead(args.collection, stored.doc) ? stored.doc : null;
    },
  }),
}));
