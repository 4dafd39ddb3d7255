/**
 * Tracks which sockets declared or bound which sessions, and announces every real change
 * of a session's connection state (and only real changes) on a topic per session.
 */
import type { Clock } from '../clock.js';
import {
  connectionState,
  nextLinks,
  type ConnectionState,
  type LinkEvent,
  type SocketLink,
} from './connection-state.js';
import { Topics } from './topics.js';

export interface ConnectionStateChange {
  sessionId: string;
  previous: ConnectionState;
  current: ConnectionState;
  at: Date;
}

export class ConnectionTracker {
  readonly changes = new Topics<ConnectionStateChange>();
  private readonly links = new Map<string, Map<string, SocketLink>>();
  private readonly sessionsOfSocket = new Map<string, Set<string>>();

  constructor(private readonly clock: Clock) {}

  stateOf(sessionId: string): ConnectionState {
    return connectionState(this.links.get(sessionId) ?? new Map());
  }

  /** Sessions with at least one socket, declared or bound. */
  knownSessions(): string[] {
    return [...this.links.keys()];
  }

  /** A socket authenticated and declared the sessions it is for. */
  declare(socket: string, sessionIds: readonly string[]): void {
    for (const id of sessionIds) this.apply(id, { type: 'declared', socket });
  }

  /** A socket subscribed to the session's `changes` or `sessionEvents`. */
  bind(socket: string, sessionId: string): void {
    this.apply(sessionId, { type: 'bound', socket });
  }

  /** A socket closed, or keep-alive found it dead. */
  closed(socket: string): void {
    for (const id of this.sessionsOfSocket.get(socket) ?? [])
      this.apply(id, { type: 'closed', socket });
    this.sessionsOfSocket.delete(socket);
  }

  private apply(sessionId: string, event: LinkEvent): void {
    const before = this.links.get(sessionId) ?? new Map<string, SocketLink>();
    const after = nextLinks(before, event);
    if (after.size > 0) this.links.set(sessionId, after);
    else this.links.delete(sessionId);
    if (event.type !== 'closed') {
      const sessions = this.sessionsOfSocket.get(event.socket) ?? new Set();
      this.sessionsOfSocket.set(event.socket, sessions.add(sessionId));
    }
    const previous = connectionState(before);
    const current = connectionState(after);
    if (previous !== current) {
      this.changes.publish(sessionId, { sessionId, previous, current, at: this.clock.now() });
    }
  }
}
