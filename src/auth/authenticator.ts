/**
 * Turns a presented token into the viewer. Without a configured secret the gateway is
 * in development mode: a secret is kept in the data directory, and a request without a
 * token acts as the user "dev". With a secret, a missing token means no viewer.
 * Tokens are checked against the gateway's clock (injected, so expiry is testable).
 */
import { systemClock, type Clock } from '../clock.js';
import { SyncError } from '../errors.js';
import type { Viewer } from '../sync/model.js';
import { verifyTokenAt } from './jwt.js';

export const DEV_USER: Viewer = { id: 'dev', roles: [] };

/** Who a connection or request is, and until when (null: no token, or a token without `exp`). */
export interface Authenticated {
  viewer: Viewer | null;
  expiresAt: Date | null;
}

export class Authenticator {
  constructor(
    readonly secret: string,
    readonly devMode: boolean,
    readonly clock: Clock = systemClock,
  ) {}

  /** The viewer of a request or connection; null when anonymous outside dev mode. */
  async viewer(token: string | null): Promise<Viewer | null> {
    return (await this.authenticate(token)).viewer;
  }

  /** The viewer and the token's expiry; throws UNAUTHENTICATED for a bad or expired token. */
  async authenticate(token: string | null): Promise<Authenticated> {
    if (token) return verifyTokenAt(this.secret, token, this.clock.now());
    return { viewer: this.devMode ? DEV_USER : null, expiresAt: null };
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
