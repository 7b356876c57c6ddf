/**
 * Carries a user's "stop this reply" to whichever instance is generating the reply.
 *
 * Contract: `request(messageId)` stops the reply at once when this instance generates it;
 * otherwise, with Redis, it publishes the id on `<prefix>reply-stop`, a channel every instance
 * subscribes to at start, and the instance that generates the reply stops it (the others ignore
 * the message). Without Redis there is only this instance. Resolves once the request is handed
 * over, not once the reply has ended (the stream's `done {"finishReason":"stopped"}` says that).
 * `close()` unsubscribes; call it before closing the Redis connections.
 */
import type { RedisConnections } from '../redis/redis-connections.ts';
import type { ReplyRegistry } from './reply-registry.ts';

export interface ReplyStopChannel {
  request(messageId: string): Promise<void>;
  close(): Promise<void>;
}

export function localStopChannel(registry: ReplyRegistry): ReplyStopChannel {
  return {
    async request(messageId) {
      registry.stop(messageId);
    },
    async close() {},
  };
}

export async function openRedisStopChannel(options: {
  connections: RedisConnections;
  keyPrefix: string;
  registry: ReplyRegistry;
}): Promise<ReplyStopChannel> {
  const { connections, registry } = options;
  const channel = `${options.keyPrefix}reply-stop`;
  const listener = (messageId: string) => {
    registry.stop(messageId);
  };
  await connections.subscriber.subscribe(channel, listener);
  let closed = false;
  return {
    async request(messageId) {
      if (registry.stop(messageId)) return;
      await connections.commands.publish(channel, messageId);
    },
    async close() {
      if (closed) return;
      closed = true;
      if (connections.subscriber.isOpen) await connections.subscriber.unsubscribe(channel, listener);
    },
  };
}
