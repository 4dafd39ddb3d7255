/** Development mode's signing secret, kept in the data directory so tokens survive restarts. */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const devSecretPath = (dataDir: string): string => join(dataDir, 'dev-jwt-secret');

export function loadOrCreateDevSecret(dataDir: string): string {
  const path = devSecretPath(dataDir);
  if (existsSync(path)) return readFileSync(path, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32).toString('hex');
  writeFileSync(path, secret, { mode: 0o600 });
  return secret;
}
