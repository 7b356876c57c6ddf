/**
 * The conversation history routes: list, read (whole or a page at a time, with turn versions),
 * switch a turn's version, rename, delete.
 *
 * Contract (types from `@wxstream/protocol`'s conversations.ts; every route behind `requireAuth`):
 * - `GET /api/conversations?limit=&cursor=` → `ConversationPage`, newest first. `limit` is a whole
 *   number 1…`MAX_PAGE_SIZE` (default `DEFAULT_PAGE_SIZE`); `cursor` is a `nextCursor` this server
 *   issued. Anything else is 400 `invalid_request`.
 * - `GET /api/conversations/:id` → `ConversationDetail`: the current version of every turn in order,
 *   each reply of a turn with several versions carrying `versions`. With `?limit=N` (1…
 *   `MAX_MESSAGE_PAGE_SIZE`, default `DEFAULT_MESSAGE_PAGE_SIZE`) and/or `?before=<nextCursor>` it
 *   answers one page, newest page first, oldest first within it, plus `nextCursor` (null at the
 *   start); without either, every message and no `nextCursor`, as before paging existed. A reply
 *   still `streaming` is first checked for a producer that died without ending it
 *   (`abandoned-reply.ts`) and, if so, ended and answered as stored then — so reopening a
 *   conversation whose reply's instance was killed shows it ended, even when nobody resumed it.
 * - `PATCH /api/conversations/:id {"title"}` → the renamed `ConversationSummary` (titles are
 *   cleaned and normalised; empty, invisible-only or longer than `MAX_TITLE_CHARS` is
 *   `invalid_request`; a title the content check blocks is 422 `content_blocked`, as a message is). `PUT` does the same:
 *   `wx.request` has no PATCH method, so the mini-program renames with PUT.
 * - `PUT /api/conversations/:id/messages/:messageId/current` → `CurrentVersionResponse`: the version
 *   `:messageId` names (its reply, or its question) becomes its turn's current one (409
 *   `reply_in_progress` while that turn's reply streams).
 * - `DELETE /api/conversations/:id` → 204, the conversation, its messages and its shares gone.
 * Another user's conversation, an unknown one, and an id that cannot be one are all 404
 * `not_found`: the API never reveals that a conversation exists for someone else.
 */
import type { Middleware } from 'koa';
import type { Router } from '@koa/router';
import {
  MAX_MESSAGE_PAGE_SIZE,
  ROUTES,
  WxstreamError,
  type ConversationDetail,
  type ConversationPage,
  type ConversationSummary,
  type CurrentVersionResponse,
} from '@wxstream/protocol';
import type { AppState } from '../app-state.ts';
import { endAbandonedReply, type AbandonedReplyDeps } from '../chat/abandoned-reply.ts';
import { readJsonBody } from '../http/json-body.ts';
import { normalizeTitle } from '../storage/conversation-title.ts';
import {
  MAX_PAGE_SIZE,
  toConversationSummary,
  toStoredMessages,
  type ConversationStore,
  type MessagePageOptions,
  type MessageRecord,
} from '../storage/conversation-store.ts';
import { idParam, userOf } from './route-params.ts';
import { assertContentAllowed, type ContentChecker } from '../wechat/content-checker.ts';

export interface ConversationRoutesDeps {
  store: ConversationStore;
  maxBodyBytes: number;
  /** A title is the user's text like a message: it passes the same content check before it is stored. */
  contentChecker: ContentChecker;
  /** Ends replies whose producer died; they would otherwise read `streaming` until an instance restarts. */
  abandoned: AbandonedReplyDeps;
}

function conversationIdOf(params: Record<string, string | undefined>): string {
  return idParam(params, 'id', 'conversation');
}

/** A query parameter given once, or undefined; repeated parameters are ambiguous and refused. */
function single(value: string | string[] | undefined, name: string): string | undefined {
  if (Array.isArray(value)) throw new WxstreamError('invalid_request', `${name} must be given at most once`);
  return value;
}

/** `limit` as a whole number 1…`max`, or undefined when absent or empty. */
function parseLimit(query: Record<string, string | string[] | undefined>, max: number): number | undefined {
  const raw = single(query.limit, 'limit');
  if (raw === undefined || raw === '') return undefined;
  const limit = /^\d{1,4}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(limit >= 1 && limit <= max)) throw new WxstreamError('invalid_request', `limit must be a whole number from 1 to ${max}`);
  return limit;
}

export function parseListQuery(query: Record<string, string | string[] | undefined>): { limit?: number; cursor?: string } {
  const limit = parseLimit(query, MAX_PAGE_SIZE);
  const cursor = single(query.cursor, 'cursor');
  return { ...(limit === undefined ? {} : { limit }), ...(cursor === undefined || cursor === '' ? {} : { cursor }) };
}

/** The page asked for, or undefined for the unpaged form (neither `limit` nor `before`). */
export function parseMessagePageQuery(query: Record<string, string | string[] | undefined>): MessagePageOptions | undefined {
  const limit = parseLimit(query, MAX_MESSAGE_PAGE_SIZE);
  const before = single(query.before, 'before');
  if (limit === undefined && before === undefined) return undefined;
  if (before === '') throw new WxstreamError('invalid_request', 'before must be a nextCursor this server issued');
  return { ...(limit === undefined ? {} : { limit }), ...(before === undefined ? {} : { before }) };
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
    const pageOptions = parseMessagePageQuery(ctx.query);
    const read = async (): Promise<{ messages: readonly MessageRecord[]; nextCursor?: string | null }> => {
      if (pageOptions === undefined) return { messages: await store.listMessages(user.id, id) };
      const page = await store.listMessagePage(user.id, id, pageOptions);
      return { messages: page.items, nextCursor: page.nextCursor };
    };
    let shown = await read();
    const streaming = shown.messages.filter((message) => message.role === 'assistant' && message.status === 'streaming');
    if (streaming.length > 0) {
      // One Redis call per reply still streaming (normally none, at most the last one).
      const ended = await Promise.all(streaming.map((message) => endAbandonedReply(deps.abandoned, message.id, ctx.state.log)));
      if (ended.includes(true)) shown = await read();
    }
    const first = shown.messages[0];
    const last = shown.messages.at(-1);
    // Only the versions of the turns shown: a page of a long conversation reads a page of versions.
    const versions =
      first === undefined || last === undefined ? [] : await store.listTurnVersions(user.id, id, { fromTurn: first.turn, toTurn: last.turn });
    const answer: ConversationDetail = {
      conversation: toConversationSummary(conversation),
      messages: toStoredMessages(shown.messages, versions),
      ...(shown.nextCursor === undefined ? {} : { nextCursor: shown.nextCursor }),
    };
    ctx.set('Cache-Control', 'no-store');
    ctx.body = answer;
  });

  router.put(ROUTES.currentVersion, guard, async (ctx) => {
    const user = userOf(ctx.state);
    const id = conversationIdOf(ctx.params);
    const turn = await store.setCurrentVersion(user.id, id, idParam(ctx.params, 'messageId', 'message'));
    const reply = turn.find((message) => message.role === 'assistant');
    const versions = reply === undefined ? [] : await store.listTurnVersions(user.id, id, { fromTurn: reply.turn, toTurn: reply.turn });
    const answer: CurrentVersionResponse = { messages: toStoredMessages(turn, versions) };
    ctx.body = answer;
  });

  const rename: Middleware<AppState> = async (ctx) => {
    const user = userOf(ctx.state);
    const id = conversationIdOf(ctx.params);
    const title = normalizeTitle(parseRename(await readJsonBody(ctx.req, { maxBytes: deps.maxBodyBytes })));
    assertContentAllowed(await deps.contentChecker.checkText({ openid: user.openid ?? '', text: title, role: 'user' }), 'user');
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
