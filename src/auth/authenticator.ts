/**
 * Turns a presented token into the viewer. Without a configured secret the gateway is
 * in development mode: a secret is kept in the data directory, and a request without a
 * token acts as the user "dev". With a secret, a missing token means no viewer.
 */
import { SyncError } from '../errors.js';
import type { Viewer } from '../sync/model.js';
import { verifyToken } from './jwt.js';

export const DEV_USER: Viewer = { id: 'dev', roles: [] };

export class Authenticator {
  constructor(
    readonly secret: string,
    readonly devMode: boolean,
  ) {}

  /** The viewer of a request or connection; null when anonymous outside dev mode. */
  async viewer(token: string | null): Promise<Viewer | null> {
    if (token) return verifyToken(this.secret, token);
    return this.devMode ? DEV_USER : null;
  }
}

/** The viewer, or UNAUTHENTICATED. */
export function requireViewer(viewer: Viewer | null): Viewer {
  if (!viewer)
    throw new SyncError(
      'UNAUTHENTICATED',
      'a bearer token is required (Authorization header or connectionParams.authToken)',
    );
  return viewer;
}
