/**
 * A session's connection state, derived from the graphql-ws sockets that declared or
 * bound it:
 *
 *   DISCONNECTED ──socket opens declaring the session──▶ CONNECTING
 *   CONNECTING ──it subscribes to changes or sessionEvents (binds)──▶ CONNECTED
 *   CONNECTED / CONNECTING ──its last socket closes, or keep-alive finds it dead──▶ DISCONNECTED
 *
 * The session is CONNECTED while at least one bound socket is open.
 */
export type ConnectionState = 'DISCONNECTED' | 'CONNECTING' | 'CONNECTED';
export type SocketLink = 'DECLARED' | 'BOUND';

export type LinkEvent =
  | { type: 'declared'; socket: string }
  | { type: 'bound'; socket: string }
  | { type: 'closed'; socket: string };

/** The pure transition: the links of one session after an event. */
export function nextLinks(
  links: ReadonlyMap<string, SocketLink>,
  event: LinkEvent,
): Map<string, SocketLink> {
  const next = new Map(links);
  if (event.type === 'closed') next.delete(event.socket);
  else if (event.type === 'bound') next.set(event.socket, 'BOUND');
  else if (!next.has(event.socket)) next.set(event.socket, 'DECLARED');
  return next;
}

export function connectionState(links: ReadonlyMap<string, SocketLink>): ConnectionState {
  const values = [...links.values()];
  if (values.includes('BOUND')) return 'CONNECTED';
  return values.length > 0 ? 'CONNECTING' : 'DISCONNECTED';
}
