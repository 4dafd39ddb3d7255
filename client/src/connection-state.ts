/**
 * The app's connection to the gateway, as a pure state machine (the driver in connection.ts
 * performs the effects of each transition: sockets, timers):
 *
 *   waiting(n) ──connect (retry due, reconnect(), resume(), `online`)──▶ connecting(n)
 *   connecting(n) ──acknowledged (connection_ack)──▶ connected
 *   connecting(n) ──lost (closed, connect or handshake timeout)──▶ waiting(n + 1)
 *   connected ──lost (closed, pong timeout, `offline`)──▶ waiting(0)
 *   waiting(n) ──reset (reconnect())──▶ waiting(0)
 *   any ──close (app.close())──▶ closed
 *
 * `n` counts the failed attempts since the last connection: the backoff before the next one.
 */
export type ConnectionState = 'DISCONNECTED' | 'CONNECTING' | 'CONNECTED';

export type Phase =
  | { name: 'waiting'; attempt: number }
  | { name: 'connecting'; attempt: number }
  | { name: 'connected' }
  | { name: 'closed' };

export type ConnectionEvent =
  | { type: 'connect' }
  | { type: 'acknowledged' }
  | { type: 'lost' }
  | { type: 'reset' }
  | { type: 'close' };

export function nextPhase(phase: Phase, event: ConnectionEvent): Phase {
  if (phase.name === 'closed' || event.type === 'close') return { name: 'closed' };
  switch (event.type) {
    case 'connect':
      return phase.name === 'waiting' ? { name: 'connecting', attempt: phase.attempt } : phase;
    case 'acknowledged':
      return phase.name === 'connecting' ? { name: 'connected' } : phase;
    case 'lost':
      if (phase.name === 'connected') return { name: 'waiting', attempt: 0 };
      return phase.name === 'connecting' ? { name: 'waiting', attempt: phase.attempt + 1 } : phase;
    case 'reset':
      return phase.name === 'waiting' ? { name: 'waiting', attempt: 0 } : phase;
  }
}

/** The state apps see: closed and waiting are both DISCONNECTED. */
export function publicState(phase: Phase): ConnectionState {
  if (phase.name === 'connected') return 'CONNECTED';
  return phase.name === 'connecting' ? 'CONNECTING' : 'DISCONNECTED';
}
