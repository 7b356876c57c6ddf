/**
 * Caps on open reply streams, so one user cannot hold hundreds of connections kept alive by
 * heartbeats: streams per user (`POST /api/chat` and `GET /api/chat/:id/events` together) and
 * resumes per reply.
 *
 * Contract: `take(userId, replyId?)` returns a release function, or throws
 * `LimitExceededError` — `too_many_streams` when the user already holds `maxPerUser` streams,
 * `too_many_readers` when the reply already has `maxPerReply` readers (429 both, no
 * `Retry-After`: a stream ends when its reader leaves, nobody knows when). Release is idempotent.
 * Counts are per instance: behind a balancer a user's streams spread over instances, and each
 * instance protects its own sockets. `holdStreamSlot` takes a slot for a request and gives it back
 * when the response closes, however the request ends; a resume takes it only after the reply was
 * found to be the user's, so the per-reply count never tells anyone else that a reply exists.
 * `streamSlot` is the same as a middleware, for the chat.
 */
import type { Middleware, ParameterizedContext } from 'koa';
import type { AppState } from '../app-state.ts';
import type { LimitKind } from '../metrics/server-metrics.ts';
import { LimitExceededError } from './limit-exceeded-error.ts';

export interface StreamSlotLimits {
  readonly maxPerUser: number;
  readonly maxPerReply: number;
}

export class StreamSlots {
  readonly #limits: StreamSlotLimits;
  readonly #perUser = new Map<string, number>();
  readonly #perReply = new Map<string, number>();

  constructor(limits: StreamSlotLimits) {
    this.#limits = limits;
  }

  take(userId: string, replyId?: string): () => void {
    const userCount = this.#perUser.get(userId) ?? 0;
    if (userCount >= this.#limits.maxPerUser) {
      throw new LimitExceededError('too_many_streams', `This user already has ${userCount} reply streams open (MAX_STREAMS_PER_USER)`);
    }
    const replyCount = replyId === undefined ? 0 : (this.#perReply.get(replyId) ?? 0);
    if (replyId !== undefined && replyCount >= this.#limits.maxPerReply) {
      throw new LimitExceededError('too_many_readers', `This reply already has ${replyCount} readers (MAX_READERS_PER_REPLY)`);
    }
    this.#perUser.set(userId, userCount + 1);
    if (replyId !== undefined) this.#perReply.set(replyId, replyCount + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      decrement(this.#perUser, userId);
      if (replyId !== undefined) decrement(this.#perReply, replyId);
    };
  }
}

function decrement(counts: Map<string, number>, key: string): void {
  const left = (counts.get(key) ?? 1) - 1;
  if (left <= 0) counts.delete(key);
  else counts.set(key, left);
}

/** Takes a slot for this request's stream and gives it back when the response closes; throws the refusal. */
export type HoldStreamSlot = (ctx: ParameterizedContext<AppState>, replyId?: string) => void;

export function holdStreamSlot(slots: StreamSlots, onRefused: (limit: LimitKind) => void): HoldStreamSlot {
  return (ctx, replyId) => {
    const user = ctx.state.user;
    if (user === undefined) throw new Error('stream slots are taken behind requireAuth');
    let release: () => void;
    try {
      release = slots.take(user.id, replyId);
    } catch (error) {
      if (error instanceof LimitExceededError) onRefused(error.code === 'too_many_readers' ? 'readers_per_reply' : 'streams_per_user');
      throw error;
    }
    if (ctx.res.closed) release();
    else ctx.res.once('close', release);
  };
}

/** The middleware form, for a route whose stream has no reply id yet (`POST /api/chat`). */
export function streamSlot(hold: HoldStreamSlot): Middleware<AppState> {
  return async (ctx, next) => {
    hold(ctx);
    await next();
  };
}
