/**
 * The seed page, "Manage a Sync Session", performed block by block with the SDK against a
 * running gateway:
 *
 *   GATEWAY_URL=ws://localhost:4000/graphql TOKEN=<jwt> npx tsx examples/walkthrough.ts
 *
 * Without TOKEN it talks to a gateway in development mode as the user "dev".
 */
import WebSocket from 'ws';
import { App, CancellationToken, openSyncedDatabase, type Doc } from '../client/src/index.js';

const url = process.env.GATEWAY_URL ?? 'ws://localhost:4000/graphql';
const token = process.env.TOKEN;
const userId = token
  ? (JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { sub: string })
      .sub
  : 'dev';

let counter = 0;
const car = (make: string): Doc => ({
  _id: `${make.toLowerCase()}-${Date.now()}-${(counter += 1)}`,
  make,
  ownerId: userId,
});

async function main(): Promise<void> {
  const app = new App({ url, token, webSocketImpl: WebSocket });
  const realm = await openSyncedDatabase(app, {
    clientId: process.env.CLIENT_ID ?? `walkthrough-${process.pid}`,
    queries: [{ collection: 'Car' }],
  });

  // Wait for changes to upload and download
  await realm.syncSession.waitForDownload();
  await realm.write((tx) => {
    for (const make of ['Hyundai', 'Kia', 'Lincoln']) tx.insert('Car', car(make));
  });
  await realm.syncSession.waitForUpload();
  console.log(`uploaded: ${realm.all('Car').length} cars`);

  // Cancellation tokens on both waits
  const cancellationToken = new CancellationToken();
  const waitForDownloadFuture = realm.syncSession.waitForDownload(cancellationToken);
  cancellationToken.cancel();
  const waitForUploadFuture = realm.syncSession.waitForUpload(cancellationToken);
  cancellationToken.cancel();
  for (const [name, future] of [
    ['waitForDownload', waitForDownloadFuture],
    ['waitForUpload', waitForUploadFuture],
  ] as const) {
    await future.then(
      () => console.log(`${name}: done`),
      (e: Error) => console.log(`${name}: ${e.name}`),
    );
  }

  // Pause, write, resume
  await realm.syncSession.pause();
  await realm.write((tx) => {
    for (const make of ['Volvo', 'Genesis', 'VW']) tx.insert('Car', car(make));
  });
  console.log(`paused with ${realm.snapshot.pending.length} changeset(s) kept locally`);

  // Upload progress for the currently outstanding work
  const stream = realm.syncSession.getProgressStream('UPLOAD', 'FOR_CURRENTLY_OUTSTANDING_WORK');
  const listening = (async () => {
    for await (const syncProgressEvent of stream) {
      const progressEstimate = syncProgressEvent.progressEstimate;
      if (progressEstimate < 1.0) console.log(`Upload progress: ${progressEstimate * 100}%`);
    }
    console.log('Upload complete');
  })();
  await realm.syncSession.resume();
  await listening;

  // Check the connection state
  console.log(`connection state: ${realm.syncSession.connectionState}`);

  // Listen to connection state changes until connected
  const changes = realm.syncSession.connectionStateChanges();
  app.restartConnection(); // drop the connection, to have changes to listen to
  for await (const change of changes) {
    console.log(`connection: ${change.previous} -> ${change.current}`);
    if (change.current === 'CONNECTED') break;
  }

  // Manually reconnect all sessions
  app.reconnect();
  console.log(
    `reconnect() called; next retry: ${app.nextRetryAt?.toISOString() ?? 'none pending'}`,
  );

  realm.syncSession.close();
  await app.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
