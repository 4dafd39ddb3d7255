/**
 * The viewer of an HTTP request, from its `Authorization` header, verified once per request:
 * the limits plugin (to key the user's budget) and the context both ask for it.
 */
import type { Authenticator } from '../auth/authenticator.js';
import { bearer } from '../auth/jwt.js';
import type { Viewer } from '../sync/model.js';

const verified = new WeakMap<Request, Promise<Viewer | null>>();

/** Rejects as `auth.viewer` does for a bad token. */
export function requestViewer(auth: Authenticator, request: Request): Promise<Viewer | null> {
  let viewer = verified.get(request);
  if (!viewer) {
    viewer = auth.viewer(bearer(request.headers.get('authorization')));
    verified.set(request, viewer);
  }
  return viewer;
}
