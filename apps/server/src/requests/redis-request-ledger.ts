/**
 * `RequestLedger` in Redis, so a repeated request or a stop finds its record on any instance (see
 * request-ledger.ts for the contract).
 *
 * State: one hash per requestId, `<prefix>request:<requestId>`: `u` the user, `s` the state
 * (`stop-requested`, `admitting`, `committed`), `stop` 1 when a stop was asked for, `m` / `c` the reply's
 * message and conversation ids, `ended` 1 once the reply ended. Every read-modify-write is one Lua script,
 * so two instances racing on one id (a repeat and the original, a stop and the request) see one order.
 * The key's PEXPIRE is the record's lifetime.
 */
import type { RedisClient } from '../redis/redis-connections.ts';
import { RedisScript } from '../redis/redis-script.ts';
import type { ClaimResult, CommittedRequest, RequestLedger, RequestLedgerTimes, RequestRecord, StopResult } from './request-ledger.ts';

// KEYS[1] record; ARGV userId, admittingTtlMs.
// → {'claimed', '0'|'1'} | {'admitting'} | {'committed', m, c} | {'foreign'}
const CLAIM = new RedisScript(`
local u = redis.call('HGET', KEYS[1], 'u')
local s = redis.call('HGET', KEYS[1], 's')
if (not u) or (u == ARGV[1] and s == 'stop-requested') then
  local stop = '0'
  if u then stop = '1' end
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], 'u', ARGV[1], 's', 'admitting', 'stop', stop)
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {'claimed', stop}
end
if u ~= ARGV[1] then return {'foreign'} end
if s == 'admitting' then return {'admitting'} end
return {'committed', redis.call('HGET', KEYS[1], 'm'), redis.call('HGET', KEYS[1], 'c')}
`);

// KEYS[1] record; ARGV messageId, conversationId, committedTtlMs. → '0'|'1' (stop requested), '' when gone.
const COMMIT = new RedisScript(`
if redis.call('HGET', KEYS[1], 's') ~= 'admitting' then return '' end
redis.call('HSET', KEYS[1], 's', 'committed', 'm', ARGV[1], 'c', ARGV[2], 'ended', '0')
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return redis.call('HGET', KEYS[1], 'stop')
`);

// KEYS[1] record. Forgets a request still being admitted.
const RELEASE = new RedisScript(`
if redis.call('HGET', KEYS[1], 's') == 'admitting' then redis.call('DEL', KEYS[1]) end
return 0
`);

// KEYS[1] record; ARGV committedTtlMs.
const END = new RedisScript(`
if redis.call('HGET', KEYS[1], 's') ~= 'committed' then return 0 end
redis.call('HSET', KEYS[1], 'ended', '1')
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
`);

// KEYS[1] record; ARGV userId, stopTtlMs. → {'remembered'} | {'admitting'} | {'committed', m, c} | {'foreign'}
const STOP = new RedisScript(`
local u = redis.call('HGET', KEYS[1], 'u')
if not u then
  redis.call('HSET', KEYS[1], 'u', ARGV[1], 's', 'stop-requested')
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {'remembered'}
end
if u ~= ARGV[1] then return {'foreign'} end
local s = redis.call('HGET', KEYS[1], 's')
if s == 'stop-requested' then return {'remembered'} end
redis.call('HSET', KEYS[1], 'stop', '1')
if s == 'admitting' then return {'admitting'} end
return {'committed', redis.call('HGET', KEYS[1], 'm'), redis.call('HGET', KEYS[1], 'c')}
`);

function stringList(reply: unknown): string[] {
  if (!Array.isArray(reply) || reply.length === 0 || !reply.every((item) => typeof item === 'string')) {
    throw new Error(`expected a list of strings from Redis, got ${JSON.stringify(reply)}`);
  }
  return reply as string[];
}

export class RedisRequestLedger implements RequestLedger {
  readonly #client: RedisClient;
  readonly #keyPrefix: string;
  readonly #times: RequestLedgerTimes;

  constructor(options: { client: RedisClient; keyPrefix: string } & RequestLedgerTimes) {
    this.#client = options.client;
    this.#keyPrefix = options.keyPrefix;
    this.#times = { stopTtlMs: options.stopTtlMs, admittingTtlMs: options.admittingTtlMs, committedTtlMs: options.committedTtlMs };
  }

  async claim(userId: string, requestId: string): Promise<ClaimResult> {
    const [kind, a = '', b = ''] = stringList(await CLAIM.run(this.#client, [this.#key(requestId)], [userId, String(this.#times.admittingTtlMs)]));
    if (kind === 'claimed') return { kind, stopRequested: a === '1' };
    if (kind === 'committed') return { kind, messageId: a, conversationId: b };
    if (kind === 'admitting' || kind === 'foreign') return { kind };
    throw new Error(`unexpected claim answer ${kind}`);
  }

  async commit(requestId: string, reply: CommittedRequest): Promise<{ stopRequested: boolean }> {
    const answer = await COMMIT.run(this.#client, [this.#key(requestId)], [reply.messageId, reply.conversationId, String(this.#times.committedTtlMs)]);
    return { stopRequested: answer === '1' };
  }

  async release(requestId: string): Promise<void> {
    await RELEASE.run(this.#client, [this.#key(requestId)], []);
  }

  async end(requestId: string): Promise<void> {
    await END.run(this.#client, [this.#key(requestId)], [String(this.#times.committedTtlMs)]);
  }

  async stop(userId: string, requestId: string): Promise<StopResult> {
    const [kind, a = '', b = ''] = stringList(await STOP.run(this.#client, [this.#key(requestId)], [userId, String(this.#times.stopTtlMs)]));
    if (kind === 'committed') return { kind, messageId: a, conversationId: b };
    if (kind === 'remembered' || kind === 'admitting' || kind === 'foreign') return { kind };
    throw new Error(`unexpected stop answer ${kind}`);
  }

  async get(requestId: string): Promise<RequestRecord | undefined> {
    const fields = await this.#client.hGetAll(this.#key(requestId));
    const userId = fields.u;
    if (userId === undefined) return undefined;
    const stopRequested = fields.stop === '1';
    if (fields.s === 'stop-requested') return { state: 'stop-requested', userId };
    if (fields.s === 'admitting') return { state: 'admitting', userId, stopRequested };
    return { state: 'committed', userId, stopRequested, ended: fields.ended === '1', messageId: fields.m ?? '', conversationId: fields.c ?? '' };
  }

  #key(requestId: string): string {
    return `${this.#keyPrefix}request:${requestId}`;
  }
}
