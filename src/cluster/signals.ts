/**
 * The signals between gateways that serve one deployment: one small port, two adapters
 * (a store-backed one for processes sharing a SQLite file; MongoDB change streams for a
 * replica set), and an in-process one for a single gateway. A gateway acts on its own
 * signals directly; the bus carries them to the others.
 */
import type { ConnectionState } from '../session/connection-state.js';
import type { SessionEventType } from '../session/session-events.js';

export type ClusterSignal =
  /** New history up to this server version. */
  | { type: 'committed'; version: number }
  /** The session's stored record changed (pause, queries, acknowledgements, ...). */
  | { type: 'session'; sessionId: string }
  /** A control event for the session's client. */
  | { type: 'event'; sessionId: string; event: SessionEventType }
  /** The session's connection state as seen by one gateway. */
  | { type: 'connection'; sessionId: string; state: ConnectionState }
  /** A cancellation token was fired. */
  | { type: 'cancelled'; tokenId: string }
  /** Signals may have been missed: re-derive from the store. */
  | { type: 'lost' };

export interface Envelope {
  origin: string;
  at: string;
  signal: ClusterSignal;
}

export interface SignalBus {
  /** This gateway's id, stamped on what it publishes. */
  readonly gatewayId: string;
  publish(signal: ClusterSignal): void;
  /** Signals of the other gateways, in order; returns the function that stops them. */
  subscribe(handler: (envelope: Envelope) => void): () => void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** One gateway alone: nothing to carry. */
export class LocalSignals implements SignalBus {
  constructor(readonly gatewayId: string) {}
  publish(): void {}
  subscribe(): () => void {
    return () => undefined;
  }
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
}
