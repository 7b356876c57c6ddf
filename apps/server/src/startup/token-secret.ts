/**
 * The secret that signs session tokens (and voice audio URLs): `TOKEN_SECRET`, or a random one —
 * with a warning, since tokens then die with the process.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from '../logger.ts';
import type { ServerConfig } from '../server-config.ts';

export function tokenSecretFor(config: ServerConfig, logger: Logger): string | Buffer {
  if (config.tokenSecret !== undefined) return config.tokenSecret;
  logger.warn('TOKEN_SECRET is not set: using a random secret, so tokens will not survive a restart');
  return randomBytes(32);
}
