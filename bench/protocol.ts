/**
 * Messages between the bench (which runs the gateway) and its client process (which runs
 * the sockets), so clients and gateway do not share one event loop.
 */
export interface LoadClient {
  token: string;
  userId: string;
  clientId: string;
}

export type Command =
  /** `changes`: inserts per changeset (1 unless given). */
  | { type: 'load-setup'; wsUrl: string; clients: LoadClient[]; changes?: number }
  | { type: 'load-go' }
  | { type: 'load-stop' }
  | {
      type: 'latency';
      wsUrl: string;
      token: string;
      userId: string;
      samples: number;
      warmup: number;
    }
  | {
      type: 'sdk';
      scenario: SdkScenario;
      wsUrl: string;
      token: string;
      userId: string;
      count: number;
    }
  | { type: 'exit' };

/** The SDK scenarios and their raw-protocol floors (bench/sdk-clients.ts). */
export type SdkScenario =
  | 'sdk-live'
  | 'raw-live'
  | 'sdk-catch-up'
  | 'raw-catch-up'
  | 'sdk-backlog'
  | 'raw-backlog-1'
  | 'raw-backlog-2';

export type Reply =
  | { type: 'load-ready' }
  | { type: 'load-done'; acks: number; errors: string[]; cpuMs: number; wallMs: number }
  | { type: 'latency-done'; e2e: number[]; roundTrip: number[]; ack: number[] }
  | { type: 'sdk-done'; ms: number }
  | { type: 'error'; message: string };
