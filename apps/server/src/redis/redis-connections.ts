/**
 * The server's two connections to Redis, opened and closed in one place.
 *
 * Contract: `openRedis` resolves once both connections are ready, or rejects promptly (within
 * `connectTimeoutMs`) when Redis cannot be reached at startup: a server configured for Redis must
 * not come up pretending to share state it cannot reach. After a successful start, a dropped
 * connection is re-established in the background with capped backoff; meanwhile commands fail at
 * once (no offline queue), so a chat request answers with an error instead of hanging on a rate
 * limit check. `close()` ends both connections; call it after the HTTP server has drained.
 *
 * Why two: `commands` carries every command and script of every store (node-redis pipelines
 * concurrent commands over one socket, so one connection serves any number of requests), while
 * `subscriber` is in subscriber mode for reply-log notifications. Readers never get a connection
 * of their own, so the number of Redis connections per instance is two, whatever the load.
 */
import { createClient, type RedisClientType } from '@redis/client';

export type RedisClient = RedisClientType;

export interface RedisConnections {
  readonly commands: RedisClient;
  readonly subscriber: RedisClient;
  close(): Promise<void>;
}

export interface OpenRedisOptions {
  url: string;
  /** Connection errors after startup (the client reconnects on its own); log them. */
  onError: (error: Error) => void;
  connectTimeoutMs?: number;
}

const RECONNECT_BASE_MS = 50;
const RECONNECT_MAX_MS = 2000;

export async function openRedis(options: OpenRedisOptions): Promise<RedisConnections> {
  const commands = createRedisClient(options);
  await commands.connect();
  const subscriber = commands.duplicate();
  subscriber.on('error', options.onError);
  try {
    await subscriber.connect();
  } catch (error) {
    commands.destroy();
    throw error;
  }
  return {
    commands,
    subscriber,
    async close() {
      await Promise.all([closeClient(commands), closeClient(subscriber)]);
    },
  };
}

function createRedisClient(options: OpenRedisOptions): RedisClient {
  let connected = false;
  const client: RedisClient = createClient({
    url: options.url,
    disableOfflineQueue: true,
    socket: {
      connectTimeout: options.connectTimeoutMs ?? 5000,
      // Returning the cause stops retrying: at startup that rejects `connect()`; later, backoff.
      reconnectStrategy: (retries: number, cause: Error) =>
        connected ? Math.min(RECONNECT_BASE_MS * 2 ** retries, RECONNECT_MAX_MS) : cause,
    },
  });
  client.on('ready', () => {
    connected = true;
  });
  client.on('error', options.onError);
  return client;
}

async function closeClient(client: RedisClient): Promise<void> {
  if (client.isOpen) await client.close();
}
