/**
 * The conversation history routes: list, read, rename, delete.
 *
 * Contract (types from `@wxstream/protocol`'s conversations.ts; every route behind `requireAuth`):
 * - `GET /api/conversations?limit=&cursor=` → `ConversationPage`, newest first. `limit` is a whole
 *   number 1…`MAX_PAGE_SIZE` (default `DEFAULT_PAGE_SIZE`); `cursor` is a `nextCursor` this server
 *   issued. Anything else is 400 `invalid_request`.
 * - `GET /api/conversations/:id` → `ConversationDetail`, messages in the order they were added. A
 *   reply still `streaming` is first checked for a producer that died without ending it
 *   (`abandoned-reply.ts`) and, if so, ended and answered as stored then — so reopening a
 *   conversation whose reply's instance was killed shows it ended, even when nobody resumed it.
 * - `PATCH /api/conversations/:id {"title"}` → the renamed `ConversationSummary` (titles are
 *   normalised; empty or longer than `MAX_TITLE_CHARS` is `invalid_request`). `PUT` does the same:
 *   `wx.request` has no PATCH method, so the mini-program renames with PUT.
 * - `DELETE /api/conversations/:id` → 204, the conversation and its messages gone.
 * Another user's conversation, an unknown one, and an id that cannot be one are all 404
 * `not_found`: the API never reveals that a conversation exists for someone else.
 */
import type { Middleware } from 'koa';
import type { Router } from '@koa/router';
import {
  ROUTES,
  WxstreamError,
  type ConversationDetail,
  type ConversationPage,
  type ConversationSummary,
} from '@wxstream/protocol';
import type { AppState, AuthenticatedUser } from '../app-state.ts';
import { endAbandonedReply, type AbandonedReplyDeps } from '../chat/abandoned-reply.ts';
import { CONVERSATION_ID_PATTERN } from '../chat/chat-request.ts';
import { readJsonBody } from '../http/json-body.ts';
import { MAX_PAGE_SIZE, toConversationSummary, toStoredMessage, type ConversationStore } from '../storage/conversation-store.ts';

export interface ConversationRoutesDeps {
  store: ConversationStore;
  maxBodyBytes: number;
  /** Ends replies whose producer died; they would otherwise read `streaming` until an instance restarts. */
  abandoned: AbandonedReplyDeps;
}

function userOf(state: AppState): AuthenticatedUser {
  if (state.user === undefined) throw new Error('conversation routes must run behind requireAuth');
  return state.user;
}

function conversationIdOf(params: Record<string, string | undefined>): string {
  const id = params.id;
  if (id === undefined || !CONVERSATION_ID_PATTERN.test(id)) throw new WxstreamError('not_found', 'No such conversation');
  return id;
}

/** A query parameter given once, or undefined; repeated parameters are ambiguous and refused. */
function single(value: string | string[] | undefined, name: string): string | undefined {
  if (Array.isArray(value)) throw new WxstreamError('invalid_request', `${name} must be given at most once`);
  return value;
}

export function parseListQuery(query: Record<string, string | string[] | undefined>): { limit?: number; cursor?: string } {
  const limitRaw = single(query.limit, 'limit');
  const cursor = single(query.cursor, 'cursor');
  let limit: number | undefined;
  if (limitRaw !== undefined && limitRaw !== '') {
    limit = /^\d{1,4}$/.test(limitRaw) ? Number(limitRaw) : Number.NaN;
    if (!(limit >= 1 && limit <= MAX_PAGE_SIZE)) {
      throw new WxstreamError('invalid_request', `limit must be a whole number from 1 to ${MAX_PAGE_SIZE}`);
    }
  }
  return { ...(limit === undefined ? {} : { limit }), ...(cursor === undefined || cursor === '' ? {} : { cursor }) };
}

export function parseRename(body: unknown): string {
  const title = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as { title?: unknown }).title : undefined;
  if (typeof title !== 'string') throw new WxstreamError('invalid_request', 'title must be a string');
  return title;
}

export function mountConversationRoutes(router: Router<AppState>, guard: Middleware<AppState>, deps: ConversationRoutesDeps): void {
  const { store } = deps;

  router.get(ROUTES.conversations, guard, async (ctx) => {
    const user = userOf(ctx.state);
    const page = await store.listConversations(user.id, parseListQuery(ctx.query));
    const answer: ConversationPage = { items: page.items.map(toConversationSummary), nextCursor: page.nextCursor };
    ctx.set('Cache-Control', 'no-store');
    ctx.body = answer;
  });

  router.get(ROUTES.conversation, guard, async (ctx) => {
    const user = userOf(ctx.state);
    const id = conversationIdOf(ctx.params);
    const conversation = await store.getConversation(user.id, id);
    if (conversation === undefined) throw new WxstreamError('not_found', `No conversation ${id}`);
    let messages = await store.listMessages(user.id, id);
    const streaming = messages.filter((message) => message.role === 'assistant' && message.status === 'streaming');
    if (streaming.length > 0) {
      // One Redis call per reply still streaming (normally none, at most the last one).
      const ended = await Promise.all(streaming.map((message) => endAbandonedReply(deps.abandoned, message.id, ctx.state.log)));
      if (ended.includes(true)) messages = await store.listMessages(user.id, id);
    }
    const answer: ConversationDetail = { conversation: toConversationSummary(conversation), messages: messages.map((message) => toStoredMessage(message)) };
    ctx.set('Cache-Control', 'no-store');
    ctx.body = answer;
  });

  const rename: Middleware<AppState> = async (ctx) => {
    const user = userOf(ctx.state);
    const id = conversationIdOf(ctx.params);
    const title = parseRename(await readJsonBody(ctx.req, { maxBytes: deps.maxBodyBytes }));
    const answer: ConversationSummary = toConversationSummary(await store.renameConversation(user.id, id, title));
    ctx.body = answer;
  };
  router.patch(ROUTES.conversation, guard, rename);
  router.put(ROUTES.conversation, guard, rename);

  router.delete(ROUTES.conversation, guard, async (ctx) => {
    const user = userOf(ctx.state);
    await store.deleteConversation(user.id, conversationIdOf(ctx.params));
    ctx.status = 204;
  });
}
