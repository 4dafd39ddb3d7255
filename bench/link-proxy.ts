/**
 * A slow link for the bench: a TCP proxy that delays every chunk by `ms` in each direction,
 * keeping their order (a round trip costs 2 × ms more). What a phone's uploads cross, on
 * this machine. No jitter, loss or bandwidth cap: only the delay.
 */
import net from 'node:net';

export interface Link {
  /** The ws:// URL through the link, for the gateway's `wsUrl`. */
  url: string;
  close(): Promise<void>;
}

function delayed(from: net.Socket, to: net.Socket, ms: number): void {
  from.on('data', (chunk) => setTimeout(() => to.destroyed || to.write(chunk), ms));
  from.on('end', () => setTimeout(() => to.end(), ms));
  from.on('error', () => setTimeout(() => to.destroy(), ms));
  from.on('close', () => setTimeout(() => to.destroy(), ms));
}

export async function startLink(wsUrl: string, ms: number): Promise<Link> {
  const target = new URL(wsUrl);
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    for (const s of [client, upstream]) {
      s.setNoDelay(true);
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    }
    delayed(client, upstream, ms);
    delayed(upstream, client, ms);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}${target.pathname}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
