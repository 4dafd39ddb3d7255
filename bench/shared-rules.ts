/**
 * The fan-out and memory scenarios' rules: every user reads the `shared` collection, a
 * user writes only the documents whose ownerId is theirs (the default ownership rule).
 */
export const SHARED_COLLECTION = 'shared';

const OWNER = { ownerId: '%%user.id' };

export const SHARED_RULES = {
  default: { read: OWNER, write: OWNER },
  collections: { [SHARED_COLLECTION]: { read: true, write: OWNER } },
};
