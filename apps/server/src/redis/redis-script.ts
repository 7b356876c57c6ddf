/**
 * A Lua script run by its SHA1, loading it on first use.
 *
 * Contract: `run` sends EVALSHA, and on NOSCRIPT (a fresh or restarted Redis, or one whose script
 * cache was flushed) sends EVAL with the full source, which also caches it. A script runs
 * atomically in Redis, which is what makes each store's read-modify-write safe across instances.
 * Scripts touch only the keys passed in `keys` (Redis Cluster routes by them). On a NOSCRIPT retry
 * two runs sent back to back may execute in the other order; a caller whose runs must stay in
 * order chains them (see `redis-reply-log.ts`).
 */
import { createHash } from 'node:crypto';
import type { RedisClient } from './redis-connections.ts';

export type ScriptReply = Awaited<ReturnType<RedisClient['eval']>>;

export class RedisScript {
  readonly source: string;
  readonly sha1: string;

  constructor(source: string) {
    this.source = source;
    this.sha1 = createHash('sha1').update(source).digest('hex');
  }

  async run(client: RedisClient, keys: string[], args: string[]): Promise<ScriptReply> {
    try {
      return await client.evalSha(this.sha1, { keys, arguments: args });
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return client.eval(this.source, { keys, arguments: args });
    }
  }
}
