/** Starts the real gateway on a free port for a test, with a test secret and a silent logger. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { mintToken } from '../../src/auth/jwt.js';
import { loadConfig, type GatewayConfig } from '../../src/config.js';
import { startGateway, type Gateway, type GatewayDeps } from '../../src/server/gateway.js';

export const TEST_SECRET = 'test-secret-test-secret-test-secret-0123';

export interface GqlResult<T = Record<string, unknown>> {
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string; field?: string } }[];
}

export interface TestGateway {
  gateway: Gateway;
  config: GatewayConfig;
  dataDir: string;
  token(sub: string, roles?: string[]): Promise<string>;
  http<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    token?: string | null,
  ): Promise<GqlResult<T>>;
  ws(token: string | null): Client;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export interface TestGatewayOptions extends GatewayDeps {
  /**
   * The store's file: a real one in the temp dir, written on the writer thread as a gateway
   * does by default (the default; true also keeps the temp dir on close, to restart on it);
   * false: `:memory:`, written on the event loop.
   */
  file?: boolean;
  /** Keep the data dir on close (to restart on it). */
  dataDir?: string;
  env?: Record<string, string>;
}

export async function startTestGateway(options: TestGatewayOptions = {}): Promise<TestGateway> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'sync-gw-'));
  const config = loadConfig([], {
    PORT: '0',
    HOST: '127.0.0.1',
    JWT_SECRET: TEST_SECRET,
    DATA_DIR: dataDir,
    ...(options.file === false ? { SQLITE_FILE: ':memory:' } : {}),
    ...options.env,
  });
  const gateway = await startGateway(config, { logger: pino({ level: 'silent' }), ...options });
  const clients: Client[] = [];
  const close = async () => {
    await Promise.all(clients.map((c) => c.dispose()));
    await gateway.close();
    if (!options.dataDir && options.file !== true)
      rmSync(dataDir, { recursive: true, force: true });
  };
  return {
    gateway,
    config,
    dataDir,
    close,
    [Symbol.asyncDispose]: close,
    token: (sub, roles = []) => mintToken(TEST_SECRET, sub, roles),
    http: async (query, variables = {}, token = null) => {
      const response = await fetch(gateway.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify({ query, variables }),
      });
      return (await response.json()) as GqlResult<never>;
    },
    ws: (token) => {
      const client = createClient({
        url: gateway.wsUrl,
        webSocketImpl: WebSocket,
        retryAttempts: 0,
        lazy: true,
        connectionParams: token ? { authToken: token } : {},
      });
      clients.push(client);
      return client;
    },
  };
}

/** Runs one operation over a graphql-ws client and returns its single result. */
export function wsRequest<T = Record<string, unknown>>(
  client: Client,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<GqlResult<T>> {
  return new Promise((resolve, reject) => {
    let result: GqlResult<T> | undefined;
    client.subscribe<T>(
      { query, variables },
      {
        next: (value) => (result = value as GqlResult<T>),
        error: reject,
        complete: () => (result ? resolve(result) : reject(new Error('no result'))),
      },
    );
  });
}
