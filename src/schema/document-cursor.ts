/**
 * The cursors of `documents(collection, first, after)`: where a page's scan stopped, which
 * can be a document the caller may not read. A cursor is that id sealed with AES-256-GCM
 * (a random nonce, the collection as associated data), so it tells the caller nothing of a
 * document it may not read, and a cursor of another collection, or an edited one, is
 * refused. The key comes from the JWT secret, so every gateway of a deployment (and the
 * same gateway after a restart) opens the cursors of the others.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { badInput } from '../errors.js';

const NONCE_BYTES = 12;
const TAG_BYTES = 16;
/** Document ids have at most 256 characters (UTF-8: up to 1024 bytes); cursors stay far below. */
const MAX_CURSOR_LENGTH = 2048;

export class DocumentCursors {
  private readonly key: Buffer;

  constructor(secret: string | Buffer) {
    this.key = Buffer.from(
      hkdfSync('sha256', secret, Buffer.alloc(0), 'sync-gateway document cursors', 32),
    );
  }

  /** An opaque cursor for the position just after `id` in `collection`. */
  seal(collection: string, id: string): string {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce);
    cipher.setAAD(Buffer.from(collection));
    const sealed = Buffer.concat([cipher.update(id, 'utf8'), cipher.final()]);
    return Buffer.concat([nonce, cipher.getAuthTag(), sealed]).toString('base64url');
  }

  /** The id a cursor of `collection` stands for; BAD_USER_INPUT naming `field` if it is none. */
  open(field: string, collection: string, cursor: string): string {
    const refuse = () =>
      badInput(field, `not a cursor of "${collection}" from this gateway (use a page's endCursor)`);
    if (cursor.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw refuse();
    const bytes = Buffer.from(cursor, 'base64url');
    if (bytes.length < NONCE_BYTES + TAG_BYTES) throw refuse();
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, bytes.subarray(0, NONCE_BYTES));
      decipher.setAAD(Buffer.from(collection));
      decipher.setAuthTag(bytes.subarray(NONCE_BYTES, NONCE_BYTES + TAG_BYTES));
      const id = Buffer.concat([
        decipher.update(bytes.subarray(NONCE_BYTES + TAG_BYTES)),
        decipher.final(),
      ]);
      return id.toString('utf8');
    } catch {
      throw refuse();
    }
  }
}

/** What the server adds to every operation's context for `documents` (yoga.ts). */
export interface DocumentCursorContext {
  documentCursors?: DocumentCursors;
}

/**
 * Without the server's cursors (a schema executed outside the gateway), a key of this
 * process: its cursors open only here, until it exits.
 */
let processCursors: DocumentCursors | undefined;
export function cursorsOf(context: object): DocumentCursors {
  const given = (context as DocumentCursorContext).documentCursors;
  return given ?? (processCursors ??= new DocumentCursors(randomBytes(32)));
}
