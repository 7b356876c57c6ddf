/**
 * Shared conversations (types and rules in `@wxstream/protocol`'s shares.ts):
 * - `POST /api/conversations/:id/shares` (owner) → 201 `ShareCreated`: a snapshot of the current
 *   versions now. Rate-limited per user (`SHARE_RATE_LIMIT_*`): 429 `rate_limited` with `Retry-After`;
 *   every attempt counts, like chat requests. Nothing shareable yet is 400 `invalid_request`.
 * - `GET /api/conversations/:id/shares` (owner) → `ShareList`, newest first.
 * - `GET /api/shares/:shareId` (no token) → `SharedConversation`: title, time and messages (role,
 *   text, time) only — the store's snapshot holds nothing else, so nothing that identifies the owner can
 *   leak. `Cache-Control: no-store`, so a revoked share is gone at once, for every cache too.
 * - `DELETE /api/shares/:shareId` (owner) → 204; from then on the share is 404.
 * Another user's conversation or share, an unknown one and an id that cannot be one are all 404.
 *
 * Share ids are 18 random bytes from the system CSPRNG in base64url (24 characters, 144 bits): a link
 * cannot be guessed or enumerated, which is what lets reading one need no token.
 */
import { randomBytes } from 'node:crypto';
import type { Middleware } from 'koa';
import type { Router } from '@koa/router';
import {
  ROUTES,
  SHARE_ID_PATTERN,
  WxstreamError,
  routePath,
  type ShareCreated,
  type SharedConversation,
  type ShareList,
  type ShareSummary,
} from '@wxstream/protocol';
import type { AppState } from '../app-state.ts';
import { LimitExceededError } from '../limits/limit-exceeded-error.ts';
import type { RateLimiter } from '../limits/rate-limiter.ts';
import { isoTime, type ConversationStore, type ShareRecord } from '../storage/conversation-store.ts';
import { idParam, userOf } from './route-params.ts';

export interface ShareRoutesDeps {
  store: ConversationStore;
  /** Counts share creations per user. */
  rateLimiter: RateLimiter;
}

export const SHARE_ID_BYTES = 18;

export function newShareId(): string {
  return randomBytes(SHARE_ID_BYTES).toString('base64url');
}

function shareIdOf(params: Record<string, string | undefined>): string {
  const id = params.shareId;
  if (id === undefined || !SHARE_ID_PATTERN.test(id)) throw new WxstreamError('not_found', 'No such share');
  return id;
}

function toShareSummary(share: ShareRecord): ShareSummary {
  return { shareId: share.id, title: share.title, createdAt: isoTime(share.createdAt), messageCount: share.messageCount };
}

export function mountShareRoutes(router: Router<AppState>, guard: Middleware<AppState>, deps: ShareRoutesDeps): void {
  const { store } = deps;

  router.post(ROUTES.conversationShares, guard, async (ctx) => {
    const user = userOf(ctx.state);
    const conversationId = idParam(ctx.params, 'id', 'conversation');
    const rate = await deps.rateLimiter.hit(user.id);
    if (!rate.allowed) throw new LimitExceededError('rate_limited', 'Too many shares created; slow down', { retryAfterMs: rate.retryAfterMs });
    const share = await store.createShare(user.id, conversationId, newShareId());
    const answer: ShareCreated = { ...toShareSummary(share), path: routePath(ROUTES.share, { shareId: share.id }) };
    ctx.status = 201;
    ctx.body = answer;
  });

  router.get(ROUTES.conversationShares, guard, async (ctx) => {
    const user = userOf(ctx.state);
    const shares = await store.listShares(user.id, idParam(ctx.params, 'id', 'conversation'));
    const answer: ShareList = { items: shares.map(toShareSummary) };
    ctx.set('Cache-Control', 'no-store');
    ctx.body = answer;
  });

  router.get(ROUTES.share, async (ctx) => {
    const snapshot = await store.getShare(shareIdOf(ctx.params));
    if (snapshot === undefined) throw new WxstreamError('not_found', 'No such share');
    const answer: SharedConversation = {
      title: snapshot.title,
      createdAt: isoTime(snapshot.createdAt),
      messages: snapshot.messages.map((message) => ({ role: message.role, text: message.text, createdAt: isoTime(message.createdAt) })),
    };
    ctx.set('Cache-Control', 'no-store');
    ctx.body = answer;
  });

  router.delete(ROUTES.share, guard, async (ctx) => {
    const user = userOf(ctx.state);
    await store.deleteShare(user.id, shareIdOf(ctx.params));
    ctx.status = 204;
  });
}
