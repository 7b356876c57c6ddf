/**
 * The parts of the #10 HTTP contract the mini-program uses that `@wxstream/protocol` does not carry
 * yet: feedback, versions, paged conversations and shares — as the issue text states them.
 *
 * Contract: types only. Once the protocol package exports these shapes, this module re-exports them and
 * the readers in conversation-shapes.ts / shares-api.ts keep checking answers at the edge.
 */
import type { ChatRequest, ConversationSummary, StoredMessage, StoredMessageStatus } from '../vendor/wxstream-client.js';

export type Rating = 'up' | 'down';

/** The owner's rating of an assistant message (`PUT /api/messages/:id/feedback`). */
export interface MessageFeedback {
  rating: Rating;
  comment?: string;
}

export const MAX_FEEDBACK_COMMENT_CHARS = 500;

/** One version of a turn: a question and the reply to it. Regenerated versions share their question. */
export interface TurnVersion {
  /** The version's reply — the id `PUT …/messages/:messageId/current` takes. */
  messageId: string;
  userMessageId: string;
  createdAt: string;
  status: StoredMessageStatus;
}

export interface TurnVersions {
  /** Index in `items` of the version shown. */
  current: number;
  /** Oldest first. */
  items: TurnVersion[];
}

/** A stored message with what #10 adds to it. */
export interface TurnMessage extends StoredMessage {
  feedback?: MessageFeedback;
  /** On the reply of a turn with more than one version. */
  versions?: TurnVersions;
}

/** `GET /api/conversations/:id?limit=N&before=…`: the newest messages before the cursor, in reading order. */
export interface ConversationMessagesPage {
  conversation: ConversationSummary;
  messages: TurnMessage[];
  /** The cursor of the next older page; null when these are the oldest messages. */
  nextCursor: string | null;
}

/** `POST /api/conversations/:id/shares` (the fields used here). */
export interface CreatedShare {
  shareId: string;
}

/** `PUT /api/conversations/:id/messages/:messageId/current` → the turn as it now reads. */
export interface CurrentVersionResponse {
  messages: TurnMessage[];
}

/** One message of a shared snapshot: nothing that identifies its owner. */
export interface SharedMessage {
  role: 'user' | 'assistant';
  text: string;
  createdAt: string;
}

/** `GET /api/shares/:shareId` (no token). */
export interface SharedConversation {
  title: string;
  /** When the snapshot was taken. */
  createdAt: string;
  messages: SharedMessage[];
}

/**
 * `POST /api/chat` bodies #10 adds: `{conversationId, regenerate: true}` (no message) makes the last
 * reply again; `{conversationId, message, editOf}` replaces the last question as a new version.
 */
export type ChatRequestBody = Omit<ChatRequest, 'message'> & {
  message?: string;
  regenerate?: boolean;
  editOf?: string;
};
