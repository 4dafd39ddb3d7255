/**
 * Scenario 2, end-to-end latency: client A uploads one changeset, client B of the same
 * user (both subscribed to the collection) times the `changes` event that carries it;
 * one upload at a time. Floor: a bare `{ __typename }` round trip on A's socket, taken
 * just before each upload, on the same gateway.
 */
import type { ClientProcess } from './client-driver.js';
import { commitLatencies } from './floor.js';
import { startBenchGateway } from './gateway.js';
import { percentile } from './stats.js';

export interface LatencySettings {
  samples: number;
  warmup: number;
}

export interface LatencyRep {
  p50: number;
  p99: number;
  floorP50: number;
  floorP99: number;
  ratioP50: number;
  ratioP99: number;
  ackP50: number;
  commitP50: number;
}

export async function latencyRep(
  proc: ClientProcess,
  settings: LatencySettings,
): Promise<LatencyRep> {
  const gw = await startBenchGateway();
  let samples;
  try {
    const userId = 'latency-user';
    const command = { type: 'latency', wsUrl: gw.gateway.wsUrl, userId, ...settings } as const;
    samples = await proc.call({ ...command, token: await gw.token(userId) }, 'latency-done');
  } finally {
    await gw.close();
  }
  const [p50, p99] = [percentile(samples.e2e, 50), percentile(samples.e2e, 99)];
  const [floorP50, floorP99] = [
    percentile(samples.roundTrip, 50),
    percentile(samples.roundTrip, 99),
  ];
  return {
    p50,
    p99,
    floorP50,
    floorP99,
    ratioP50: p50 / floorP50,
    ratioP99: p99 / floorP99,
    ackP50: percentile(samples.ack, 50),
    commitP50: percentile(commitLatencies(200), 50),
  };
}
