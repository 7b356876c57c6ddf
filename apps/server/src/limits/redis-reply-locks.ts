/**
 * `ReplyLocks` kept in Redis, so one reply per user holds across every instance.
 *
 * State: one hash per user with a live (or not yet collected) lease, `<prefix>lock:<userId>`:
 * the lease's random token, its reply id and its expiry time in epoch ms. Each operation is one
 * Lua script, so check-and-set is atomic whichever instance runs it. Expiry is decided by the
 * injected clock (its `now` is passed to the script), as the contract requires; the key's own
 * PEXPIRE only collects garbage, set `GC_SLACK_MS` past the lease's expiry so that clock skew
 * between instances and Redis can never free a lease early.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.ts';
import type { RedisClient } from '../redis/redis-connections.ts';
import { integerReply } from '../redis/redis-replies.ts';
import { RedisScript } from '../redis/redis-script.ts';
import type { Lease, ReplyLocks } from './reply-locks.ts';

export interface RedisReplyLocksOptions {
  client: RedisClient;
  clock: Pick<Clock, 'now'>;
  ttlMs: number;
  /** Namespace of every key, e.g. `wxstream:`. */
  keyPrefix: string;
  /** A lease's identity; random by default. */
  newToken?: () => string;
}

const GC_SLACK_MS = 60_000;

// KEYS[1] lock; ARGV token, replyId, now, expiresAt, gcTtlMs. 1 = acquired, 0 = held by someone.
const ACQUIRE = new RedisScript(`
local expiresAt = redis.call('HGET', KEYS[1], 'expiresAt')
if expiresAt and tonumber(expiresAt) > tonumber(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[1], 'token', ARGV[1], 'replyId', ARGV[2], 'expiresAt', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1
`);

// KEYS[1] lock; ARGV token. Deletes only our own lease.
const RELEASE = new RedisScript(`
if redis.call('HGET', KEYS[1], 'token') == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 0
`);

// KEYS[1] lock; ARGV replyId. Deletes the lease only while it is still the one taken for that reply.
const RELEASE_ABANDONED = new RedisScript(`
if redis.call('HGET', KEYS[1], 'replyId') == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 0
`);

// KEYS[1] lock; ARGV token, now, expiresAt, gcTtlMs. 1 = renewed, 0 = released, expired or not ours.
const RENEW = new RedisScript(`
local held = redis.call('HMGET', KEYS[1], 'token', 'expiresAt')
if held[1] ~= ARGV[1] or tonumber(held[2]) <= tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], 'expiresAt', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
`);

export class RedisReplyLocks implements ReplyLocks {
  readonly #client: RedisClient;
  readonly #clock: Pick<Clock, 'now'>;
  readonly #ttlMs: number;
  readonly #keyPrefix: string;
  readonly #newToken: () => string;

  constructor(options: RedisReplyLocksOptions) {
    if (!(options.ttlMs > 0)) throw new RangeError(`ttlMs must be positive, got ${options.ttlMs}`);
    this.#client = options.client;
    this.#clock = options.clock;
    this.#ttlMs = options.ttlMs;
    this.#keyPrefix = options.keyPrefix;
    this.#newToken = options.newToken ?? randomUUID;
  }

  async releaseAbandoned(userId: string, replyId: string): Promise<void> {
    await RELEASE_ABANDONED.run(this.#client, [`${this.#keyPrefix}lock:${userId}`], [replyId]);
  }

  async tryAcquire(userId: string, replyId: string): Promise<Lease | undefined> {
    const key = `${this.#keyPrefix}lock:${userId}`;
    const token = this.#newToken();
    const now = this.#clock.now();
    const gcTtl = String(this.#ttlMs + GC_SLACK_MS);
    const acquired = integerReply(await ACQUIRE.run(this.#client, [key], [token, replyId, String(now), String(now + this.#ttlMs), gcTtl]));
    if (acquired !== 1) return undefined;
    return {
      userId,
      replyId,
      release: async () => {
        await RELEASE.run(this.#client, [key], [token]);
      },
      renew: async () => {
        const at = this.#clock.now();
        return integerReply(await RENEW.run(this.#client, [key], [token, String(at), String(at + this.#ttlMs), gcTtl])) === 1;
      },
    };
  }
}
