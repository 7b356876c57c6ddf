/**
 * Shared conversations: read-only snapshots anyone with the link can read.
 *
 * Contract: `POST /api/conversations/:id/shares` (owner, no body) snapshots the conversation's current
 * versions at that moment and answers `ShareCreated` (201). `GET /api/shares/:shareId` needs no token and
 * answers `SharedConversation`: the title and the messages' role, text and time — nothing that identifies
 * the owner (no user id, openid, conversation or message id). `DELETE /api/shares/:shareId` (owner only) →
 * 204, and the share is 404 from then on. `GET /api/conversations/:id/shares` lists the owner's shares of a
 * conversation. A share id is 24 characters of base64url (144 random bits). Replies that were blocked, and
 * the question they answered, are never shared; neither is a reply still being written.
 */
import type { ConversationSummary } from './conversations.ts';

export interface ShareSummary {
  shareId: string;
  /** The conversation's title when the snapshot was taken. */
  title: string;
  createdAt: string;
  /** How many messages the snapshot holds. */
  messageCount: number;
}

/** Answer of `POST /api/conversations/:id/shares`. `path` is the public route to read it. */
export interface ShareCreated extends ShareSummary {
  path: string;
}

export interface ShareList {
  items: ShareSummary[];
}

export interface SharedMessage {
  role: 'user' | 'assistant';
  text: string;
  createdAt: string;
}

export interface SharedConversation {
  title: ConversationSummary['title'];
  /** When the snapshot was taken. */
  createdAt: string;
  messages: SharedMessage[];
}

/** What a share id looks like: anything else is 404 without a lookup. */
export const SHARE_ID_PATTERN = /^[A-Za-z0-9_-]{24}$/;
