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
}

export interface ConversationPage {
  items: ConversationSummary[];
  nextCursor: string | null;
}

export interface ConversationDetail {
  conversation: ConversationSummary;
  messages: StoredMessage[];
}

export interface RenameConversationRequest {
  title: string;
}

export const MAX_TITLE_CHARS = 100;
