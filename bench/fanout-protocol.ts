/**
 * Messages of the fan-out and memory scenarios: the runner drives a server process (the
 * gateway or a floor, bench/server-proc.ts) and client processes holding many sockets
 * (bench/fanout-client-proc.ts), each on its own event loop.
 */

/** What the server process runs. */
export type ServerMode = 'gateway' | 'fanout-floor' | 'memory-floor';

export type ServerCommand =
  | { type: 'start'; mode: ServerMode }
  | { type: 'heap' }
  | { type: 'snapshot'; path: string }
  | { type: 'profile-start' }
  | { type: 'profile-stop'; path: string }
  | { type: 'exit' };

export type ServerReply =
  | { type: 'started'; wsUrl: string }
  | { type: 'heap'; heapUsed: number; external: number }
  | { type: 'profiling' }
  | { type: 'profiled' }
  | { type: 'snapshotted' }
  | { type: 'error'; message: string };

/**
 * What each socket does: `changes` opens a session and follows `changes`; `three` adds
 * `progress` and `connectionStateChanges`; `tick` is one trivial subscription (no session).
 */
export type SocketKind = 'changes' | 'three' | 'tick';

export interface Receiver {
  userId: string;
  token: string;
}

export type FanCommand =
  | {
      type: 'connect';
      wsUrl: string;
      kind: SocketKind;
      receivers: Receiver[];
      measureFrom: number;
      /** Sessions sharing one socket (the first receiver's); default 1. */
      sessionsPerSocket?: number;
      /** Sessions acknowledge each batch as the SDK does. */
      ack?: boolean;
    }
  | { type: 'count' }
  | { type: 'collect'; expectedPerSession: number }
  | { type: 'close' }
  | { type: 'exit' };

export type FanReply =
  | { type: 'connected' }
  | { type: 'count'; received: number }
  | {
      type: 'collected';
      /** Upload → receipt, ms, one per measured delivery. */
      latencies: Float64Array;
      /** Sessions that received fewer measured changes than expected. */
      short: number;
      /** Acknowledgements answered. */
      acks: number;
      errors: string[];
    }
  | { type: 'closed' }
  | { type: 'error'; message: string };
