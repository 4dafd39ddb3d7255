/**
 * Reading synced documents (for GraphiQL and backend tools), under the read rules: one by
 * id, or a collection's readable documents page by page.
 */
import { ruleCondition } from '../sync/scope-pushdown.js';
import { validateCollection } from '../sync/validate.js';
import { builder } from '../schema/builder.js';
import { viewerOf } from '../schema/access.js';
import { cursorsOf } from '../schema/document-cursor.js';
import {
  DOCUMENT_PAGE,
  DocumentConnectionRef,
  readDocumentPage,
} from '../schema/document-connection.js';

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
  documents: t.field({
    type: DocumentConnectionRef,
    description: `The documents of a collection you may read, in id order; page forward with first (${DOCUMENT_PAGE.defaultFirst} when omitted, at most ${DOCUMENT_PAGE.maxFirst}) and after (a page's endCursor). A page looks at ${DOCUMENT_PAGE.maxScanned} documents at most, readable or not, so it can hold fewer than first (even none) while hasNextPage is true.`,
    args: {
      collection: t.arg.string({ required: true }),
      first: t.arg.int(),
      after: t.arg.string(),
    },
    resolve: (_root, args, ctx) => {
      const viewer = viewerOf(ctx);
      validateCollection('collection', args.collection);
      const permissions = ctx.core.permissions(viewer);
      return readDocumentPage(args, {
        store: ctx.core.store,
        permissions,
        where: ruleCondition(permissions.readRule(args.collection)),
        cursors: cursorsOf(ctx),
        signal: ctx.signal,
      });
    },
  }),
}));
