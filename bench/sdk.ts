/**
 * Scenarios 3 and 4, through the client SDK, each beside the raw protocol doing the same
 * transfer in the same repetition (bench/sdk-clients.ts runs both in the client process):
 *
 * 3. live sync: one SDK client writes N one-insert changesets, another receives them;
 *    changes/s from the first write to the last arrival.
 * 4. catch-up: a fresh client's first sync of the whole collection, at several sizes, to
 *    show the cost grows with the documents, not faster; the gateway is preloaded in-process.
 * 3b. backlog: one client's N one-insert changesets uploaded over a slow link (25 ms each
 *    way), until acknowledged; the raw protocol one upload at a time and two at a time.
 */
import type { ClientProcess } from './client-driver.js';
import { startBenchGateway, type BenchGateway } from './gateway.js';
import type { SdkScenario } from './protocol.js';

export interface SdkSettings {
  liveChanges: number;
  catchUpSizes: number[];
  backlogChanges: number;
}

export interface LiveRep {
  sdkPerSec: number;
  rawPerSec: number;
  ratio: number;
}

/** Changes/s of a backlog over a slow link: the SDK, and the raw protocol 1 and 2 at a time. */
export interface BacklogRep {
  sdkPerSec: number;
  oneAtATimePerSec: number;
  twoAtATimePerSec: number;
  /** SDK / one upload at a time (what the SDK did before 2026-11-30). */
  ratio: number;
  /** SDK / two at a time (the same transfer as the SDK's). */
  ratioTwo: number;
}

/** Per size: milliseconds of the SDK and of the raw floor, and their ratio. */
export type CatchUpRep = Record<string, number>;

const USER = 'bench-user';
const PRELOAD_CHANGES = 1000;

async function run(proc: ClientProcess, gw: BenchGateway, scenario: SdkScenario, count: number) {
  const target = { wsUrl: gw.gateway.wsUrl, token: await gw.token(USER), userId: USER };
  const reply = await proc.call({ type: 'sdk', scenario, count, ...target }, 'sdk-done');
  return reply.ms;
}

export async function liveRep(proc: ClientProcess, settings: SdkSettings): Promise<LiveRep> {
  const gw = await startBenchGateway();
  try {
    const n = settings.liveChanges;
    const rawPerSec = (n / (await run(proc, gw, 'raw-live', n))) * 1000;
    const sdkPerSec = (n / (await run(proc, gw, 'sdk-live', n))) * 1000;
    return { sdkPerSec, rawPerSec, ratio: sdkPerSec / rawPerSec };
  } finally {
    await gw.close();
  }
}

/** 3b: the three uploads of a backlog, one after the other, on one fresh gateway. */
export async function backlogRep(proc: ClientProcess, settings: SdkSettings): Promise<BacklogRep> {
  const gw = await startBenchGateway();
  try {
    const n = settings.backlogChanges;
    const perSec = async (scenario: SdkScenario) => (n / (await run(proc, gw, scenario, n))) * 1000;
    const oneAtATimePerSec = await perSec('raw-backlog-1');
    const twoAtATimePerSec = await perSec('raw-backlog-2');
    const sdkPerSec = await perSec('sdk-backlog');
    const ratio = sdkPerSec / oneAtATimePerSec;
    return {
      sdkPerSec,
      oneAtATimePerSec,
      twoAtATimePerSec,
      ratio,
      ratioTwo: sdkPerSec / twoAtATimePerSec,
    };
  } finally {
    await gw.close();
  }
}

/** Inserts documents `from`..`to` in-process, through the sync core, 1,000 changes a time. */
async function preload(gw: BenchGateway, from: number, to: number): Promise<void> {
  const { core } = gw.gateway;
  const viewer = { id: USER, roles: [] };
  const session = await core.openSession(viewer, 'bench-preload', []);
  let version = session.lastIntegratedClientVersion;
  for (let i = from; i < to; i += PRELOAD_CHANGES) {
    const ids = Array.from({ length: Math.min(PRELOAD_CHANGES, to - i) }, (_, k) => i + k);
    const changes = ids.map((n) => ({
      collection: 'cars',
      id: `pre-${String(n).padStart(7, '0')}`,
      op: 'INSERT' as const,
      document: { ownerId: USER, make: 'Kia', n },
    }));
    version += 1;
    const timestamp = `${new Date().toISOString()}-0000`;
    await core.uploadChanges(viewer, session.id, [{ clientVersion: version, timestamp, changes }]);
  }
}

export async function catchUpRep(proc: ClientProcess, settings: SdkSettings): Promise<CatchUpRep> {
  const gw = await startBenchGateway();
  const rep: CatchUpRep = {};
  try {
    let loaded = 0;
    for (const size of settings.catchUpSizes) {
      await preload(gw, loaded, size);
      loaded = size;
      const raw = await run(proc, gw, 'raw-catch-up', size);
      const sdk = await run(proc, gw, 'sdk-catch-up', size);
      Object.assign(rep, { [`sdk${size}`]: sdk, [`raw${size}`]: raw, [`ratio${size}`]: sdk / raw });
    }
    return rep;
  } finally {
    await gw.close();
  }
}
