/**
 * The conversation routes as typed calls: list (paginated), get (whole, or a page of its newest
 * messages before a cursor), rename, delete.
 *
 * Contract: every call is made as the signed-in user (authed-request.ts: one re-login and resend on a
 * refused token) and resolves with a value checked against the protocol's shapes
 * (conversation-shapes.ts). It rejects only with a `WxstreamError`: the server's code for an error
 * answer (another user's conversation is `not_found`), `network_error` / `http_error` from the
 * transport, `bad_response` for a 2xx answer of the wrong shape. The `message` of an error is for
 * developers; pages show `userMessageFor(error.code)`.
 *
 * Rename goes out as `PUT`, not the contract's `PATCH`: `wx.request` has no PATCH method (WeChat
 * refuses it before sending), so the server must accept `PUT /api/conversations/:id {title}` as the
 * same operation. The body is the whole writable state of a conversation, so PUT's replace semantics fit.
 */
import {
  DEFAULT_MESSAGE_PAGE_SIZE,
  ROUTES,
  WxstreamError,
  type ConversationDetail,
  type ConversationPage,
  type ConversationSummary,
  type RenameConversationRequest,
} from '../vendor/wxstream-client.js';
import type { AuthSession } from './auth-session.ts';
import { authedCaller } from './authed-request.ts';
import type { JsonMethod, WxJsonRequest } from './json-request.ts';
import {
  readConversationDetail,
  readConversationMessagesPage,
  readConversationPage,
  readConversationSummary,
} from './conversation-shapes.ts';

/** One page of a conversation's messages (the paged `GET /api/conversations/:id`); `nextCursor` null on the oldest page. */
export type ConversationMessagesPage = ConversationDetail & { nextCursor: string | null };

export const DEFAULT_PAGE_SIZE = 20;
/** Messages per page of a conversation: a screenful and a half on a phone, and one `setData` each (the server's default too). */
export const MESSAGE_PAGE_SIZE = DEFAULT_MESSAGE_PAGE_SIZE;
export const API_TIMEOUT_MS = 15_000;
/** See the header comment: WeChat cannot send PATCH. */
export const RENAME_METHOD: JsonMethod = 'PUT';

export interface ConversationsApiDeps {
  serverUrl: string;
  auth: AuthSession;
  request: WxJsonRequest;
  timeoutMs?: number;
}

export interface ListOptions {
  /** `nextCursor` of the previous page; absent or null for the first page. */
  cursor?: string | null;
  limit?: number;
}

export interface MessagesPageOptions {
  /** `nextCursor` of the newer page already shown; absent for the newest page. */
  before?: string | null;
  limit?: number;
}

export interface ConversationsApi {
  list(options?: ListOptions): Promise<ConversationPage>;
  get(id: string): Promise<ConversationDetail>;
  /** The newest `limit` messages before `before`, in reading order, and the cursor of the page before them. */
  messages(id: string, options?: MessagesPageOptions): Promise<ConversationMessagesPage>;
  rename(id: string, title: string): Promise<ConversationSummary>;
  remove(id: string): Promise<void>;
}

/** `/api/conversations/:id` for one id (ids are opaque, so they are escaped). */
export function conversationPath(id: string): string {
  return ROUTES.conversation.replace(':id', encodeURIComponent(id));
}

export function listPath(options: ListOptions = {}): string {
  let path = `${ROUTES.conversations}?limit=${options.limit ?? DEFAULT_PAGE_SIZE}`;
  if (options.cursor) path += `&cursor=${encodeURIComponent(options.cursor)}`;
  return path;
}

export function messagesPagePath(id: string, options: MessagesPageOptions = {}): string {
  let path = `${conversationPath(id)}?limit=${options.limit ?? MESSAGE_PAGE_SIZE}`;
  if (options.before) path += `&before=${encodeURIComponent(options.before)}`;
  return path;
}

function shaped<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new WxstreamError('bad_response', `${what} does not have the protocol's shape`);
  return value;
}

export function createConversationsApi(deps: ConversationsApiDeps): ConversationsApi {
  const call = authedCaller({ auth: deps.auth, request: deps.request, serverUrl: deps.serverUrl, timeoutMs: deps.timeoutMs ?? API_TIMEOUT_MS });

  return {
    async list(options) {
      const answer = await call('GET', listPath(options));
      return shaped(readConversationPage(answer.data), 'the conversation list');
    },
    async get(id) {
      const answer = await call('GET', conversationPath(id));
      return shaped(readConversationDetail(answer.data), 'the conversation');
    },
    async messages(id, options) {
      const answer = await call('GET', messagesPagePath(id, options));
      return shaped(readConversationMessagesPage(answer.data), 'the page of messages');
    },
    async rename(id, title) {
      const body: RenameConversationRequest = { title };
      const answer = await call(RENAME_METHOD, conversationPath(id), body);
      return shaped(readConversationSummary(answer.data), 'the renamed conversation');
    },
    async remove(id) {
      await call('DELETE', conversationPath(id));
    },
  };
}
