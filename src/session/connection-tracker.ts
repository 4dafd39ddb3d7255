/**
 * Tracks which sockets declared or bound which sessions, here and (through the other
 * gateways' reports) elsewhere, and announces every real change of a session's
 * connection state, and only real changes, on a topic per session. A session is as
 * connected as its best connection on any gateway; a gateway's report lapses when it is
 * not renewed (a gateway that died stops renewing).
 */
import type { Clock } from '../clock.js';
import {
  connectionState,
  nextLinks,
  type ConnectionState,
  type LinkEvent,
  type SocketLink,
} from './connection-state.js';
import { Topics } from '../streams/topics.js';

export interface ConnectionStateChange {
  sessionId: string;
  previous: ConnectionState;
  current: ConnectionState;
  at: Date;
}

const RANK: Record<ConnectionState, number> = { DISCONNECTED: 0, CONNECTING: 1, CONNECTED: 2 };
const best = (states: ConnectionState[]): ConnectionState =>
  states.reduce<ConnectionState>((a, b) => (RANK[b] > RANK[a] ? b : a), 'DISCONNECTED');

interface RemoteReport {
  state: ConnectionState;
  /** Cancels the timer that lapses this report if it is not renewed. */
  cancelLapse: () => void;
}

export class ConnectionTracker {
  readonly changes = new Topics<ConnectionStateChange>();
  /** Called with this gateway's own state of a session whenever it changes. */
  onLocalChange: (sessionId: string, state: ConnectionState) => void = () => undefined;
  private readonly links = new Map<string, Map<string, SocketLink>>();
  private readonly sessionsOfSocket = new Map<string, Set<string>>();
  private readonly remote = new Map<string, Map<string, RemoteReport>>();

  constructor(
    private readonly clock: Clock,
    private readonly reportTtlMs = 30_000,
  ) {}

  stateOf(sessionId: string): ConnectionState {
    return best([this.localState(sessionId), ...this.remoteStates(sessionId)]);
  }

  /** Sessions with at least one socket here, declared or bound, and their states. */
  localSessions(): [string, ConnectionState][] {
    return [...this.links.keys()].map((id) => [id, this.localState(id)]);
  }

  /** Sessions with at least one socket here, declared or bound. */
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

  /** A socket closed, or keep-alive found it dead; returns the sessions it declared or bound. */
  closed(socket: string): string[] {
    const sessions = [...(this.sessionsOfSocket.get(socket) ?? [])];
    for (const id of sessions) this.apply(id, { type: 'closed', socket });
    this.sessionsOfSocket.delete(socket);
    return sessions;
  }

  /** Sessions CONNECTING or CONNECTED here or, by the reports in force, on another gateway. */
  activeSessions(): string[] {
    const ids = new Set([...this.links.keys(), ...this.remote.keys()]);
    return [...ids].filter((id) => this.stateOf(id) !== 'DISCONNECTED');
  }

  /**
   * Another gateway reports its state of a session. A report not renewed within the TTL
   * lapses, and the change that makes is announced like any other.
   */
  report(gatewayId: string, sessionId: string, state: ConnectionState): void {
    this.announceIfChanged(sessionId, () => {
      const reports = this.remote.get(sessionId) ?? new Map<string, RemoteReport>();
      reports.get(gatewayId)?.cancelLapse();
      if (state === 'DISCONNECTED') reports.delete(gatewayId);
      else reports.set(gatewayId, this.newReport(gatewayId, sessionId, state));
      this.keepReports(sessionId, reports);
    });
  }

  private newReport(gatewayId: string, sessionId: string, state: ConnectionState): RemoteReport {
    const lapse = () =>
      this.announceIfChanged(sessionId, () => {
        const reports = this.remote.get(sessionId);
        if (reports?.get(gatewayId) !== report) return;
        reports.delete(gatewayId);
        this.keepReports(sessionId, reports);
      });
    const cancelLapse = this.clock.setTimer(this.reportTtlMs, lapse);
    const report = { state, cancelLapse };
    return report;
  }

  private keepReports(sessionId: string, reports: Map<string, RemoteReport>): void {
    if (reports.size > 0) this.remote.set(sessionId, reports);
    else this.remote.delete(sessionId);
  }

  /** Cancels the lapse timers (the gateway is stopping). */
  stop(): void {
    for (const reports of this.remote.values()) for (const r of reports.values()) r.cancelLapse();
    this.remote.clear();
  }

  private localState(sessionId: string): ConnectionState {
    return connectionState(this.links.get(sessionId) ?? new Map());
  }

  /** The reports in force: each is removed by its lapse timer when not renewed in time. */
  private remoteStates(sessionId: string): ConnectionState[] {
    return [...(this.remote.get(sessionId)?.values() ?? [])].map((r) => r.state);
  }

  private apply(sessionId: string, event: LinkEvent): void {
    const before = this.localState(sessionId);
    this.announceIfChanged(sessionId, () => {
      const after = nextLinks(this.links.get(sessionId) ?? new Map(), event);
      if (after.size > 0) this.links.set(sessionId, after);
      else this.links.delete(sessionId);
      if (event.type !== 'closed') {
        const sessions = this.sessionsOfSocket.get(event.socket) ?? new Set();
        this.sessionsOfSocket.set(event.socket, sessions.add(sessionId));
      }
    });
    const after = this.localState(sessionId);
    if (after !== before) this.onLocalChange(sessionId, after);
  }

  private announceIfChanged(sessionId: string, change: () => void): void {
    const previous = this.stateOf(sessionId);
    change();
    const current = this.stateOf(sessionId);
    if (previous !== current) {
      this.changes.publish(sessionId, { sessionId, previous, current, at: this.clock.now() });
    }
  }
}
