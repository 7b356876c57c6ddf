/**
 * Redis, when `REDIS_URL` is set: reply locks, rate limits, reply logs and stop requests are then
 * shared between instances; otherwise (undefined) all of that lives in this process.
 */
import type { Logger } from '../logger.ts';
import { openRedis, type RedisConnections } from '../redis/redis-connections.ts';
import type { ServerConfig } from '../server-config.ts';

export async function connectRedis(config: ServerConfig, logger: Logger): Promise<RedisConnections | undefined> {
  const { url, keyPrefix } = config.redis;
  if (url === undefined) return undefined;
  const connections = await openRedis({ url, onError: (error) => logger.warn({ err: error }, 'Redis connection error; reconnecting') });
  logger.info({ keyPrefix }, 'Redis connected: reply locks, rate limits and reply logs are shared between instances');
  return connections;
}
