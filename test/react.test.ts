// @vitest-environment happy-dom
/**
 * The React hooks (React 19 here; React 18 in test/sdk-package.test.ts, from the packed SDK)
 * in a real render, against a real gateway: a live query re-renders on local and synced
 * writes, the session state, the connection state and the progress follow the session.
 */
import { act, createElement, type ReactNode } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, describe, expect, it } from 'vitest';
import type { App, SyncedDatabase } from '../client/src/index.js';
import {
  useConnectionState,
  useDocument,
  useProgress,
  useQuery,
  useSessionState,
} from '../client/src/react/index.js';
import { startTestGateway, type TestGateway } from './helpers/gateway.js';
import { clientDocs, serverScope } from './helpers/scope.js';
import { openCars, sdkApp, untilDb } from './helpers/sdk.js';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

let gw: TestGateway;
const apps: App[] = [];
let root: Root | null = null;
afterEach(async () => {
  await act(async () => root?.unmount());
  root = null;
  await Promise.all(apps.splice(0).map((a) => a.close()));
  await gw?.close();
});

async function app() {
  const a = await sdkApp(gw, 'alice');
  apps.push(a);
  return a;
}

function Cars({ db, app: a }: { db: SyncedDatabase; app: App }): ReactNode {
  const cars = useQuery(db, 'cars', { n: { $lt: 10 } }, { sort: { n: 1 } });
  const first = useDocument(db, 'cars', 'c1');
  const state = useSessionState(db);
  const connection = useConnectionState(a);
  const upload = useProgress(db, 'UPLOAD', 'REPORT_INDEFINITELY');
  const text = [
    cars.map((c) => c._id).join(','),
    `first=${String(first?.n ?? '-')}`,
    state,
    connection,
    `upload=${upload?.progressEstimate ?? '-'}`,
  ];
  return createElement('p', null, text.join(' | '));
}

async function render(element: ReactNode): Promise<HTMLElement> {
  const container = document.createElement('div');
  document.body.append(container);
  root = createRoot(container);
  await act(async () => root!.render(element));
  return container;
}

/** Waits (through act) until the rendered text satisfies `ok`. */
async function until(container: HTMLElement, ok: (text: string) => boolean): Promise<string> {
  for (let i = 0; i < 500 && !ok(container.textContent ?? ''); i += 1) {
    await act(async () => new Promise((r) => setTimeout(r, 10)));
  }
  expect(ok(container.textContent ?? ''), container.textContent ?? '').toBe(true);
  return container.textContent ?? '';
}

describe('React hooks', () => {
  it('follow the local database, the session and the connection', async () => {
    gw = await startTestGateway();
    const phoneApp = await app();
    const phone = await openCars(phoneApp, 'phone');
    const tablet = await openCars(await app(), 'tablet');
    const view = await render(createElement(Cars, { db: phone, app: phoneApp }));
    await until(view, (t) => t.includes('CONNECTED') && t.includes('upload=1'));
    await act(async () => {
      await phone.write((tx) => tx.insert('cars', { _id: 'c1', ownerId: 'alice', n: 5 }));
    });
    await until(view, (t) => t.startsWith('c1 | first=5 | ACTIVE'));
    await tablet.write((tx) => tx.insert('cars', { _id: 't1', ownerId: 'alice', n: 1 }));
    await until(view, (t) => t.startsWith('t1,c1 |'));
    await act(async () => phone.syncSession.pause());
    await until(view, (t) => t.includes('INACTIVE'));
    await act(async () => phone.syncSession.resume());
    await until(view, (t) => t.includes('ACTIVE') && !t.includes('INACTIVE'));
    await phone.syncSession.waitForUpload();
    await phone.syncSession.waitForDownload();
    await untilDb(phone, () => phone.get('cars', 't1') !== undefined);
    const scope = { user: 'alice', queries: [{ collection: 'cars' }] };
    expect(clientDocs(phone, 'cars')).toEqual(
      await serverScope(gw.gateway.core.store, scope, 'cars'),
    );
  });
});
