/**
 * Stored conversations as the HTTP API returns them.
 *
 * Contract: timestamps are ISO 8601 strings in UTC; ids are opaque strings. Lists are newest first and
 * paginated by an opaque `nextCursor` (null on the last page). Another user's conversation does not
 * exist as far as the API is concerned: every route answers 404 `not_found` for it.
 */
import type { FinishReason, UsageData } from './reply-events.ts';

/** `streaming` while a reply is being written; the others say how it ended. */
export type StoredMessageStatus = 'streaming' | 'complete' | 'stopped' | 'error' | 'blocked';

export interface ConversationSummary {
  id: string;
  title: string;
  createdAt: string;
  updatedAt: string;
}

export interface StoredMessage {
  id: string;
  role: 'user' | 'assistant';
  text: string;
  reasoning?: string;
  status: StoredMessageStatus;
  finishReason?: FinishReason;
  errorCode?: string;
  usage?: UsageData;
  model?: string;
  createdAt: string;
  updatedAt: string;
  /** The owner's rating of an assistant message; absent when none. */
  feedback?: MessageFeedback;
  /**
   * On the reply of a turn that has more than one version (regenerated, or its question edited):
   * every version of the turn, oldest first, and which one this conversation shows. Absent otherwise.
   */
  versions?: TurnVersions;
}

export type FeedbackRating = 'up' | 'down';
export const FEEDBACK_RATINGS: readonly FeedbackRating[] = ['up', 'down'];
/** Longest feedback comment, in code points. */
export const MAX_FEEDBACK_COMMENT_CHARS = 500;

export interface MessageFeedback {
  rating: FeedbackRating;
  comment?: string;
  /** When it was last set; this server always sends it, clients may ignore it. */
  updatedAt?: string;
}

/** `PUT /api/messages/:messageId/feedback` → 204. `rating: null` removes the rating (and its comment). */
export interface FeedbackRequest {
  rating: FeedbackRating | null;
  /** Only with a rating; at most `MAX_FEEDBACK_COMMENT_CHARS`. */
  comment?: string;
}

/** One version of a turn: a question and the reply to it. Regenerated versions share their question. */
export interface TurnVersion {
  /** The version's reply — the id `PUT …/messages/:messageId/current` takes (its question's id works too). */
  messageId: string;
  /** The question it answers. */
  userMessageId: string;
  /** When the version was made (its reply started). */
  createdAt: string;
  /** Its reply's status. */
  status: StoredMessageStatus;
}

export interface TurnVersions {
  /** Index in `items` of the version the conversation shows (and the next turn's context uses). */
  current: number;
  /** Oldest first. */
  items: TurnVersion[];
}

/** `PUT /api/conversations/:id/messages/:messageId/current` → the turn as it now reads: its question and reply. */
export interface CurrentVersionResponse {
  messages: StoredMessage[];
}

export interface ConversationPage {
  items: ConversationSummary[];
  nextCursor: string | null;
}

export interface ConversationDetail {
  conversation: ConversationSummary;
  /** The current version of every turn, oldest first (in the paged form: one page of them). */
  messages: StoredMessage[];
  /**
   * Only in the paged form (`?limit=N` and/or `?before=<cursor>`): pass it as `before` to get the
   * next older page; `null` when this page reaches the conversation's first message.
   */
  nextCursor?: string | null;
}

/** Messages per page of `GET /api/conversations/:id?limit=…` when `limit` is left out. */
export const DEFAULT_MESSAGE_PAGE_SIZE = 30;
export const MAX_MESSAGE_PAGE_SIZE = 100;

export interface RenameConversationRequest {
  title: string;
}

export const MAX_TITLE_CHARS = 100;
