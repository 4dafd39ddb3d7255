import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from './helpers/gateway.js';

const run = promisify(execFile);
let gw: TestGateway;
afterEach(() => gw.close());

describe('examples/walkthrough.ts', () => {
  it('performs every block of the seed page, in order, against a running gateway', async () => {
    gw = await startTestGateway();
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'examples/walkthrough.ts'], {
      env: {
        ...process.env,
        GATEWAY_URL: gw.gateway.wsUrl,
        TOKEN: await gw.token('alice'),
        CLIENT_ID: 'walkthrough',
      },
    });
    const lines = stdout.trim().split('\n');
    expect(lines).toEqual([
      'uploaded: 3 cars',
      'waitForDownload: CancelledError',
      'waitForUpload: done',
      'paused with 1 changeset(s) kept locally',
      'Upload progress: 0%',
      'Upload complete',
      'connection state: CONNECTED',
      'connection: CONNECTED -> DISCONNECTED',
      'connection: DISCONNECTED -> CONNECTING',
      'connection: CONNECTING -> CONNECTED',
      'reconnect() called; next retry: none pending',
    ]);
    const stored = await gw.gateway.core.store.scanDocuments('Car', '', 100);
    expect(stored.map((d) => d.doc?.make).sort()).toEqual([
      'Genesis',
      'Hyundai',
      'Kia',
      'Lincoln',
      'VW',
      'Volvo',
    ]);
  }, 60_000);
});
