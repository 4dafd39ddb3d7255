/**
 * What the backend-writes change stream follows, and what each event asks of the gateway
 * (https://www.mongodb.com/docs/manual/reference/change-events/).
 */
import { BSON, MongoError, MongoInvalidArgumentError, MongoServerError } from 'mongodb';
import type { ChangeStreamDocument, Document } from 'mongodb';
import type { DocumentKey } from '../../sync/model.js';
import { isCollectionName } from '../../sync/validate.js';
import { META_PREFIX } from './collections.js';

/**
 * Writes to documents, and drops and renames of collections, outside the metadata prefix,
 * and `invalidate` (after a dropDatabase), which ends the stream. The $match sees the
 * invalidate event too: left out, the stream would end without saying so.
 */
export const BACKEND_PIPELINE: Document[] = [
  {
    $match: {
      operationType: {
        $in: ['insert', 'update', 'replace', 'delete', 'drop', 'rename', 'invalidate'],
      },
      'ns.coll': { $not: { $regex: `^${META_PREFIX}` } },
    },
  },
];

/** What to check after an event. */
export type BackendAction =
  /** One document. */
  | { kind: 'document'; key: DocumentKey }
  /** Every document the gateway holds of these collections, and every copy in them. */
  | { kind: 'collections'; names: string[] }
  /** The stream ends: start again after this event. */
  | { kind: 'invalidate' }
  | { kind: 'none' };

const synced = (name: string | undefined): name is string =>
  name !== undefined && isCollectionName(name);

export function eventAction(event: ChangeStreamDocument): BackendAction {
  switch (event.operationType) {
    case 'insert':
    case 'update':
    case 'replace':
    case 'delete': {
      const id: unknown = event.documentKey._id;
      if (!synced(event.ns.coll) || typeof id !== 'string') return { kind: 'none' };
      return { kind: 'document', key: { collection: event.ns.coll, id } };
    }
    case 'drop':
      return synced(event.ns.coll) ? { kind: 'collections', names: [event.ns.coll] } : NONE;
    case 'rename': {
      const names = [event.ns.coll, event.to.coll].filter(synced);
      return names.length > 0 ? { kind: 'collections', names } : NONE;
    }
    case 'invalidate':
      return { kind: 'invalidate' };
    default:
      return NONE;
  }
}

const NONE: BackendAction = { kind: 'none' };

/**
 * ChangeStreamHistoryLost (286), and ChangeStreamFatalError (280), which older servers raise
 * for a resume point no longer in the oplog (https://www.mongodb.com/docs/manual/reference/error-codes/).
 */
export const isHistoryLost = (error: unknown): boolean =>
  error instanceof MongoServerError && (error.code === 286 || error.code === 280);

/**
 * Server errors about the document written rather than the database's state
 * (https://www.mongodb.com/docs/manual/reference/error-codes/): BadValue, FailedToParse,
 * TypeMismatch, DollarPrefixedFieldName, DocumentValidationFailure, BSONObjectTooLarge,
 * KeyTooLong.
 */
const DOCUMENT_CODES = new Set([2, 9, 14, 52, 121, 10334, 17280]);

/**
 * Whether integrating a document failed because of the document (trying again will not
 * help), not because the database is unreachable, overloaded, read-only or out of space
 * (which must stop the stream, to resume later from its stored place). The driver's own
 * checks of what it sends, and errors of the gateway's code, are the document's.
 */
export function isDocumentFault(error: unknown): boolean {
  if (error instanceof MongoServerError) {
    return (
      DOCUMENT_CODES.has(Number(error.code)) && !error.hasErrorLabel('TransientTransactionError')
    );
  }
  if (error instanceof MongoInvalidArgumentError || error instanceof BSON.BSONError) return true;
  return !(error instanceof MongoError);
}
