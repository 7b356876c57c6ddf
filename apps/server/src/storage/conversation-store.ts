/**
 * What the server needs from conversation storage, independent of the database behind it.
 *
 * Contract (every implementation — SQLite now, PostgreSQL later — passes the same suite in
 * `test/support/store-contract.ts`):
 * - Every method is async, so a networked database fits the same shape as the embedded one.
 * - Times are whole milliseconds since the epoch, taken from the injected clock; records carry
 *   them as numbers and `toConversationSummary` / `toStoredMessage` turn them into the protocol's
 *   ISO strings. Ids come from the injected `ids()`.
 * - Ownership: every method that takes a conversation id also takes the user id, and another
 *   user's conversation behaves exactly like one that does not exist. Lookups answer `undefined`;
 *   operations that need the conversation reject with `WxstreamError('not_found')`.
 * - At most one reply streams per conversation: `addUserMessage`, `startAssistantMessage` and
 *   `startTurn` reject with `reply_in_progress` while a message of that conversation is `streaming`. The check
 *   and the insert are one transaction, so this holds across processes sharing a database
 *   (SQLite: `BEGIN IMMEDIATE`; PostgreSQL will need `SELECT … FOR UPDATE` on the conversation row,
 *   which also serialises the per-conversation `seq`).
 * - An assistant message accepts updates only while it is `streaming`; the update that sets a
 *   terminal status is its last, so a late checkpoint can never overwrite the final text.
 * - Token usage is recorded per reply in a ledger that outlives the conversation: deleting a
 *   conversation must not hand a user their daily quota back.
 * - `updatedAt` of a conversation is its last message activity (a message added), not a rename:
 *   renaming an old conversation should not reshuffle the list the user is looking at.
 */
import type {
  ConversationSummary,
  FinishReason,
  StoredMessage,
  StoredMessageStatus,
  UsageData,
} from '@wxstream/protocol';

export type MessageRole = 'user' | 'assistant';

/** A status an assistant message can end with. */
export type FinalMessageStatus = Exclude<StoredMessageStatus, 'streaming'>;

export interface UserRecord {
  readonly id: string;
  /** External identity: `wechat:<openid>` or `dev:<code>`. Unique. */
  readonly identity: string;
  readonly createdAt: number;
}

export interface ConversationRecord {
  readonly id: string;
  readonly userId: string;
  readonly title: string;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface MessageRecord {
  readonly id: string;
  readonly conversationId: string;
  /** 1, 2, 3 … within its conversation, in the order messages were added. */
  readonly seq: number;
  readonly role: MessageRole;
  readonly text: string;
  /** Empty when the model sent no reasoning. */
  readonly reasoning: string;
  readonly status: StoredMessageStatus;
  readonly finishReason: FinishReason | null;
  readonly errorCode: string | null;
  readonly promptTokens: number | null;
  readonly completionTokens: number | null;
  readonly model: string | null;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface ConversationListOptions {
  /** Page size; clamped to 1…`MAX_PAGE_SIZE`, default `DEFAULT_PAGE_SIZE`. */
  readonly limit?: number;
  /** `nextCursor` of the previous page; absent for the first page. */
  readonly cursor?: string | null;
}

export interface ConversationListPage {
  readonly items: readonly ConversationRecord[];
  /** Null on the last page. */
  readonly nextCursor: string | null;
}

export interface NewUserMessage {
  readonly text: string;
  /** `blocked` when a content check refused it; the message is kept so the user sees what happened. */
  readonly status?: 'complete' | 'blocked';
}

export interface NewAssistantMessage {
  readonly model: string;
}

/** The opening of a chat turn: the user's message and the reply that answers it. */
export interface NewTurn {
  /** The conversation to continue, or a new one with this title (normalised as in `createConversation`). */
  readonly conversation: { readonly id: string } | { readonly newTitle: string };
  /** The user's message, stored `complete`. */
  readonly text: string;
  /** The model the reply comes from. */
  readonly model: string;
}

export interface StartedTurn {
  readonly conversationId: string;
  readonly userMessage: MessageRecord;
  /** Empty, `streaming`. */
  readonly reply: MessageRecord;
}

/**
 * A checkpoint while streaming (text and reasoning so far) or the final write (with a terminal
 * status). `text` and `reasoning` replace what is stored — they are the whole reply so far, not
 * an increment — so a repeated checkpoint is harmless.
 */
export interface AssistantMessagePatch {
  readonly text?: string;
  readonly reasoning?: string;
  readonly status?: StoredMessageStatus;
  readonly finishReason?: FinishReason;
  readonly errorCode?: string;
  readonly usage?: UsageData;
  readonly model?: string;
}

export interface InterruptedRepliesOptions {
  /**
   * Only replies not written to since this time. Omit on a single-process database at start (every
   * `streaming` row is then an orphan); with several servers on one database pass a time older
   * than the checkpoint interval plus the idle timeout, so live replies of the others survive.
   */
  readonly updatedBefore?: number;
}

export interface ConversationStore {
  /** The user with this external identity, created on first sight. */
  ensureUser(identity: string): Promise<UserRecord>;

  /** `title` is normalised (`normalizeTitle`); an empty or too long one rejects with `invalid_request`. */
  createConversation(userId: string, title: string): Promise<ConversationRecord>;
  getConversation(userId: string, conversationId: string): Promise<ConversationRecord | undefined>;
  /**
   * Newest first by `updatedAt`, ties broken by id. Keyset pagination: a page never repeats a
   * conversation of an earlier page and never skips one that did not change in between, even when
   * others are added or deleted meanwhile. A conversation that gains a message between pages moves
   * to the top and is seen on the next refresh, not later in this walk. A malformed cursor rejects
   * with `invalid_request`.
   */
  listConversations(userId: string, options?: ConversationListOptions): Promise<ConversationListPage>;
  renameConversation(userId: string, conversationId: string, title: string): Promise<ConversationRecord>;
  /** Removes the conversation and its messages in one transaction. */
  deleteConversation(userId: string, conversationId: string): Promise<void>;

  /** In the order they were added. */
  listMessages(userId: string, conversationId: string): Promise<MessageRecord[]>;
  countMessages(userId: string, conversationId: string): Promise<number>;
  /** Also makes the conversation the most recently updated. */
  addUserMessage(userId: string, conversationId: string, message: NewUserMessage): Promise<MessageRecord>;
  /** An empty assistant message with status `streaming`; also bumps the conversation. */
  startAssistantMessage(userId: string, conversationId: string, message: NewAssistantMessage): Promise<MessageRecord>;
  /**
   * What the chat route stores once the provider accepted a turn, in ONE transaction: the new
   * conversation (when the turn starts one), the user's message and the reply — the same rows,
   * ids (drawn in that order) and checks as `createConversation` + `addUserMessage` +
   * `startAssistantMessage`, but one commit instead of three, and on any failure nothing is stored.
   */
  startTurn(userId: string, turn: NewTurn): Promise<StartedTurn>;
  /**
   * The updated message, or `undefined` when it does not exist (its conversation was deleted) or has
   * already ended. Usage given for a reply whose conversation was deleted is still recorded.
   */
  updateAssistantMessage(messageId: string, patch: AssistantMessagePatch): Promise<MessageRecord | undefined>;
  /**
   * At start: every reply left `streaming` by a process that died becomes `error` with code
   * `INTERRUPTED_REPLY_ERROR_CODE`, keeping the partial text. Resolves to how many changed.
   */
  markInterruptedReplies(options?: InterruptedRepliesOptions): Promise<number>;

  /** Prompt plus completion tokens of the user's replies started at or after `sinceMs`. */
  tokensUsedSince(userId: string, sinceMs: number): Promise<number>;

  /** Idempotent. Nothing may be called afterwards. */
  close(): Promise<void>;
}

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

/**
 * `stream_interrupted` ("连接中断了，回复不完整。", retryable) is what the mini-program showed live
 * when the connection died with the process, and it reads true whenever the history is opened
 * later: the reply is incomplete and asking again may work. `server_shutdown` ("服务器正在更新")
 * describes the moment, not the stored result, and `internal_error` would hide that the partial
 * text is kept. The code's origin is the client, which is exactly whose view we are recording.
 */
export const INTERRUPTED_REPLY_ERROR_CODE = 'stream_interrupted';

export function pageSize(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return DEFAULT_PAGE_SIZE;
  return Math.min(MAX_PAGE_SIZE, Math.max(1, Math.trunc(limit)));
}

function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

export function toConversationSummary(conversation: ConversationRecord): ConversationSummary {
  return {
    id: conversation.id,
    title: conversation.title,
    createdAt: isoTime(conversation.createdAt),
    updatedAt: isoTime(conversation.updatedAt),
  };
}

/** Optional protocol fields are left out rather than sent empty or null. */
export function toStoredMessage(message: MessageRecord): StoredMessage {
  const stored: StoredMessage = {
    id: message.id,
    role: message.role,
    text: message.text,
    status: message.status,
    createdAt: isoTime(message.createdAt),
    updatedAt: isoTime(message.updatedAt),
  };
  if (message.reasoning !== '') stored.reasoning = message.reasoning;
  if (message.finishReason !== null) stored.finishReason = message.finishReason;
  if (message.errorCode !== null) stored.errorCode = message.errorCode;
  if (message.promptTokens !== null && message.completionTokens !== null) {
    stored.usage = { promptTokens: message.promptTokens, completionTokens: message.completionTokens };
  }
  if (message.model !== null) stored.model = message.model;
  return stored;
}
