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
 * - Turns and versions: a conversation is a list of turns (a question and its reply), numbered 1, 2,
 *   3 …; a turn may have several versions — a regenerated reply to the same question, or an edited
 *   question with its own reply — of which exactly one is current. Every read of "the messages"
 *   (`listMessages`, `listMessagePage`, `countMessages`, shares) sees current versions only, in turn
 *   order; only the last turn can get a new version (`startRegeneration`, `startEdit`), any turn can
 *   have another version made current (`setCurrentVersion`). Versions are rows like any message, so
 *   they live and die with the conversation.
 * - A title has a source: the first message, the model (`setGeneratedTitle`) or the user
 *   (`renameConversation`); nothing overwrites a user's title.
 * - Shares are snapshots: `createShare` copies the current, shareable messages (never `blocked` or
 *   `streaming` replies, nor the question of one) and nothing that happens to the conversation later
 *   changes them; deleting the conversation deletes them.
 */
import type {
  ConversationSummary,
  FeedbackRating,
  FinishReason,
  MessageFeedback,
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

/** Where a title came from: the first message (automatic), the model, or the user (never overwritten). */
export type TitleSource = 'auto' | 'model' | 'user';

export interface ConversationRecord {
  readonly id: string;
  readonly userId: string;
  readonly title: string;
  readonly titleSource: TitleSource;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface FeedbackRecord {
  readonly rating: FeedbackRating;
  /** Null when the rating came without one. */
  readonly comment: string | null;
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
  /** The turn (question and reply) it belongs to: 1, 2, 3 … in its conversation. */
  readonly turn: number;
  /** A reply's question; null for user messages. */
  readonly questionId: string | null;
  /** Whether it belongs to its turn's current version. */
  readonly current: boolean;
  /** The owner's rating (assistant messages only); null when none. */
  readonly feedback: FeedbackRecord | null;
}

/** One version of a turn, named by its reply. */
export interface TurnVersionRecord {
  readonly turn: number;
  readonly replyId: string;
  readonly questionId: string | null;
  readonly createdAt: number;
  readonly status: StoredMessageStatus;
  readonly current: boolean;
}

export interface MessagePageOptions {
  /** Page size; clamped to 1…`MAX_MESSAGE_PAGE_SIZE`, default `DEFAULT_MESSAGE_PAGE_SIZE`. */
  readonly limit?: number;
  /** `nextCursor` of the previous (newer) page; absent for the newest page. */
  readonly before?: string | null;
}

export interface MessagePage {
  /** Oldest first within the page; the page itself is the newest messages before `before`. */
  readonly items: readonly MessageRecord[];
  /** The cursor of the next older page; null when this page reaches the first message. */
  readonly nextCursor: string | null;
}

/** The first and last turn of a range, both included. */
export interface TurnRange {
  readonly fromTurn: number;
  readonly toTurn: number;
}

export interface NewRegeneration {
  readonly conversationId: string;
  /** The last turn's current question, as the caller read it (the history it built the prompt from). */
  readonly questionId: string;
  readonly model: string;
}

export interface NewEdit {
  readonly conversationId: string;
  /** The last turn's current question, which `text` replaces in a new version of the turn. */
  readonly questionId: string;
  readonly text: string;
  readonly model: string;
}

export interface NewFeedback {
  readonly rating: FeedbackRating;
  readonly comment?: string;
}

export interface ShareRecord {
  readonly id: string;
  readonly title: string;
  readonly createdAt: number;
  readonly messageCount: number;
}

export interface SharedSnapshot {
  readonly title: string;
  readonly createdAt: number;
  readonly messages: readonly { readonly role: MessageRole; readonly text: string; readonly createdAt: number }[];
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
  /** The question: new, or (regeneration) the one the reply answers again. */
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
  /** Also marks the title as the user's: `setGeneratedTitle` never replaces it. */
  renameConversation(userId: string, conversationId: string, title: string): Promise<ConversationRecord>;
  /**
   * Stores a title the model made, unless the user has named the conversation (or it is gone):
   * then it changes nothing and answers `undefined`. The check and the write are one statement, so
   * a rename racing it always wins. The title is normalised; an invalid one is `invalid_request`.
   */
  setGeneratedTitle(userId: string, conversationId: string, title: string): Promise<ConversationRecord | undefined>;
  /** Removes the conversation, its messages (every version) and its shares in one transaction. */
  deleteConversation(userId: string, conversationId: string): Promise<void>;

  /** The current version of every turn, in turn order (question before reply). */
  listMessages(userId: string, conversationId: string): Promise<MessageRecord[]>;
  /**
   * The same messages a page at a time, newest page first (keyset on turn and seq, so versions made
   * or switched between pages never repeat or skip a turn). A malformed cursor is `invalid_request`.
   */
  listMessagePage(userId: string, conversationId: string, options?: MessagePageOptions): Promise<MessagePage>;
  /** Every version of each turn that has more than one (within `range` when given), by turn, oldest first. */
  listTurnVersions(userId: string, conversationId: string, range?: TurnRange): Promise<TurnVersionRecord[]>;
  /**
   * Makes a version its turn's current one and answers the turn as it now reads (question, reply).
   * `messageId` names the version by its reply, or by its question (then the latest reply to that
   * question — regenerated versions share their question). `not_found` unless it is a message of
   * this user's conversation with a reply; `reply_in_progress` while a reply of that turn streams.
   */
  setCurrentVersion(userId: string, conversationId: string, messageId: string): Promise<MessageRecord[]>;
  /** One message of one of the user's conversations (any version); undefined when unknown or another user's. */
  getMessage(userId: string, messageId: string): Promise<MessageRecord | undefined>;
  /** Current messages. */
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
   * A new version of the last reply, answering the same question: in one transaction, under the same
   * one-reply check as `startTurn`, the last turn's current reply stops being current and a new
   * `streaming` reply to `questionId` becomes current. `invalid_request` when the conversation has
   * no reply yet or `questionId` is no longer the last turn's current question.
   */
  startRegeneration(userId: string, regeneration: NewRegeneration): Promise<StartedTurn>;
  /**
   * A new version of the last turn: its current question and reply stop being current, the new
   * question and a `streaming` reply to it become current (one transaction, same checks).
   * `invalid_request` when `questionId` is not the last turn's current question.
   */
  startEdit(userId: string, edit: NewEdit): Promise<StartedTurn>;
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

  /**
   * Sets (or with `null` removes) the owner's rating of an assistant message and answers the message.
   * `not_found` for a user message, an unknown id or another user's message.
   */
  setFeedback(userId: string, messageId: string, feedback: NewFeedback | null): Promise<MessageRecord>;

  /**
   * Snapshots the conversation's current, shareable messages under `shareId` (the caller makes it
   * unguessable). `not_found` for another user's conversation; `invalid_request` when nothing is
   * shareable yet (and then nothing is stored).
   */
  createShare(userId: string, conversationId: string, shareId: string): Promise<ShareRecord>;
  /** Anyone's share by id; `undefined` when unknown or revoked. */
  getShare(shareId: string): Promise<SharedSnapshot | undefined>;
  /** The user's shares of one conversation, newest first. */
  listShares(userId: string, conversationId: string): Promise<ShareRecord[]>;
  /** Revokes a share; `not_found` unless it is this user's. */
  deleteShare(userId: string, shareId: string): Promise<void>;

  /**
   * Records the tokens of a model call that is not a reply (a title, follow-up questions) in the same
   * ledger, under `entryId` (unique, never a message id), at the clock's now: they count against the
   * user's daily quota like a reply's.
   */
  recordSideUsage(userId: string, entryId: string, usage: UsageData): Promise<void>;

  /** Prompt plus completion tokens of the user's replies (and other model calls) started at or after `sinceMs`. */
  tokensUsedSince(userId: string, sinceMs: number): Promise<number>;

  /** Idempotent. Nothing may be called afterwards. */
  close(): Promise<void>;
}

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;
export { DEFAULT_MESSAGE_PAGE_SIZE, MAX_MESSAGE_PAGE_SIZE } from '@wxstream/protocol';

/**
 * `stream_interrupted` ("连接中断了，回复不完整。", retryable) is what the mini-program showed live
 * when the connection died with the process, and it reads true whenever the history is opened
 * later: the reply is incomplete and asking again may work. `server_shutdown` ("服务器正在更新")
 * describes the moment, not the stored result, and `internal_error` would hide that the partial
 * text is kept. The code's origin is the client, which is exactly whose view we are recording.
 */
export const INTERRUPTED_REPLY_ERROR_CODE = 'stream_interrupted';

export function pageSize(limit: number | undefined, defaults: { size: number; max: number } = { size: DEFAULT_PAGE_SIZE, max: MAX_PAGE_SIZE }): number {
  if (limit === undefined || !Number.isFinite(limit)) return defaults.size;
  return Math.min(defaults.max, Math.max(1, Math.trunc(limit)));
}

export function isoTime(ms: number): string {
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

function toMessageFeedback(feedback: FeedbackRecord): MessageFeedback {
  const answer: MessageFeedback = { rating: feedback.rating, updatedAt: isoTime(feedback.updatedAt) };
  if (feedback.comment !== null) answer.comment = feedback.comment;
  return answer;
}

/**
 * Optional protocol fields are left out rather than sent empty or null. `versions` (all versions of
 * the message's turn, from `listTurnVersions`) is attached to a reply whose turn has more than one.
 */
export function toStoredMessage(message: MessageRecord, versions?: readonly TurnVersionRecord[]): StoredMessage {
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
  if (message.feedback !== null) stored.feedback = toMessageFeedback(message.feedback);
  if (message.role === 'assistant' && versions !== undefined && versions.length > 1) {
    const current = versions.findIndex((version) => version.replyId === message.id);
    if (current >= 0) {
      stored.versions = {
        current,
        items: versions.map((version) => ({
          messageId: version.replyId,
          userMessageId: version.questionId ?? '',
          createdAt: isoTime(version.createdAt),
          status: version.status,
        })),
      };
    }
  }
  return stored;
}

/** Messages as the API returns them, each reply with its turn's versions (from `listTurnVersions`). */
export function toStoredMessages(messages: readonly MessageRecord[], versions: readonly TurnVersionRecord[]): StoredMessage[] {
  const byTurn = new Map<number, TurnVersionRecord[]>();
  for (const version of versions) {
    const list = byTurn.get(version.turn);
    if (list === undefined) byTurn.set(version.turn, [version]);
    else list.push(version);
  }
  return messages.map((message) => toStoredMessage(message, byTurn.get(message.turn)));
}
