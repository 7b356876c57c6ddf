/**
 * `PUT /api/messages/:messageId/feedback {"rating":"up"|"down"|null,"comment"?}` — the owner's rating
 * of an assistant message.
 *
 * Contract: 204 once stored; the rating comes back with the message in `GET /api/conversations/:id`.
 * `parseFeedbackRequest` is pure and names the field that is wrong (`invalid_request`): the body must
 * be an object; `rating` must be present and `"up"`, `"down"` or `null`; `comment` (optional, only with
 * a rating) a string of at most `MAX_FEEDBACK_COMMENT_CHARS` code points after cleaning (NFC, bidi and
 * control characters removed: `text/user-text.ts`) and trimming, with no lone surrogate — a blank or
 * invisible-only comment counts as none. A comment is content-checked (as the user's text) before
 * it is stored, when a checker is configured: a risky one is 422 `content_blocked` and nothing changes.
 * A user message, an unknown id or another user's message is 404 `not_found`. Every stored rating is
 * counted in `wxstream_feedback_total{rating}` (`none` for a removal).
 */
import type { Middleware } from 'koa';
import type { Router } from '@koa/router';
import { FEEDBACK_RATINGS, MAX_FEEDBACK_COMMENT_CHARS, ROUTES, WxstreamError, type FeedbackRating } from '@wxstream/protocol';
import type { AppState } from '../app-state.ts';
import { countCodePoints, hasLoneSurrogate } from '../chat/chat-request.ts';
import { readJsonBody } from '../http/json-body.ts';
import { cleanUserText, isInvisible } from '../text/user-text.ts';
import type { ServerMetrics } from '../metrics/server-metrics.ts';
import type { ConversationStore, NewFeedback } from '../storage/conversation-store.ts';
import { assertContentAllowed, type ContentChecker } from '../wechat/content-checker.ts';
import { idParam, userOf } from './route-params.ts';

export interface FeedbackRouteDeps {
  store: ConversationStore;
  contentChecker: ContentChecker;
  metrics: ServerMetrics;
  maxBodyBytes: number;
}

function isRating(value: unknown): value is FeedbackRating {
  return (FEEDBACK_RATINGS as readonly unknown[]).includes(value);
}

/** The feedback to store, or `null` to remove it. */
export function parseFeedbackRequest(body: unknown): NewFeedback | null {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new WxstreamError('invalid_request', 'The body must be a JSON object: {"rating":"up"|"down"|null,"comment"?}');
  }
  const { rating, comment } = body as Record<string, unknown>;
  if (rating === undefined) throw new WxstreamError('invalid_request', 'rating is required: "up", "down" or null');
  if (rating !== null && !isRating(rating)) throw new WxstreamError('invalid_request', 'rating must be "up", "down" or null');
  if (comment === undefined || comment === null) return rating === null ? null : { rating };
  if (typeof comment !== 'string') throw new WxstreamError('invalid_request', 'comment must be a string');
  if (hasLoneSurrogate(comment)) throw new WxstreamError('invalid_request', 'comment is not valid Unicode text (lone surrogate)');
  // Cleaned as every user text is (text/user-text.ts); nothing visible left counts as no comment.
  const cleaned = cleanUserText(comment).trim();
  const trimmed = isInvisible(cleaned) ? '' : cleaned;
  const length = countCodePoints(trimmed);
  if (length > MAX_FEEDBACK_COMMENT_CHARS) {
    throw new WxstreamError('invalid_request', `comment has ${length} characters; the limit is ${MAX_FEEDBACK_COMMENT_CHARS}`);
  }
  if (rating === null) {
    if (trimmed === '') return null;
    throw new WxstreamError('invalid_request', 'comment needs a rating: "up" or "down"');
  }
  return trimmed === '' ? { rating } : { rating, comment: trimmed };
}

export function mountFeedbackRoute(router: Router<AppState>, guard: Middleware<AppState>, deps: FeedbackRouteDeps): void {
  router.put(ROUTES.feedback, guard, async (ctx) => {
    const user = userOf(ctx.state);
    const feedback = parseFeedbackRequest(await readJsonBody(ctx.req, { maxBytes: deps.maxBodyBytes }));
    const messageId = idParam(ctx.params, 'messageId', 'message');
    if (feedback?.comment !== undefined) {
      assertContentAllowed(await deps.contentChecker.checkText({ openid: user.openid ?? '', text: feedback.comment, role: 'user' }), 'user');
    }
    await deps.store.setFeedback(user.id, messageId, feedback);
    deps.metrics.feedbackGiven(feedback?.rating ?? 'none');
    ctx.status = 204;
  });
}
