/**
 * The storage side of one chat turn, in the two steps the route needs.
 *
 * Contract: `prepareTurn` runs before anything is sent upstream and only reads: the conversation
 * to continue (another user's, or none, is 404 `not_found`), its messages so far (the history the
 * context window is built from) and whether a new turn still fits (409 `conversation_too_long`).
 * Without a conversation id the turn starts a new conversation and has no history.
 *
 * `persistTurn` runs once the provider has accepted the request: it creates the conversation
 * (titled from the first message) when the turn starts one, stores the user's message and starts
 * the assistant's reply as `streaming` — one `startTurn` transaction, so either all of it is
 * stored or, on failure, none of it (no empty conversation, no question without its reply). One
 * commit instead of three is also most of what storing the turn costs a reply's start. Storing only
 * then keeps a turn the provider refused (a JSON error before the stream) out of the history: the
 * client may simply send it again.
 */
import { WxstreamError } from '@wxstream/protocol';
import { assertConversationHasRoom } from '../limits/conversation-length.ts';
import type { ConversationRecord, ConversationStore, MessageRecord, StartedTurn } from '../storage/conversation-store.ts';
import { titleFromMessage } from '../storage/conversation-title.ts';

export interface PreparedTurn {
  /** Undefined when the turn starts a new conversation. */
  readonly conversation: ConversationRecord | undefined;
  /** The conversation's messages before this turn, oldest first. */
  readonly history: readonly MessageRecord[];
}

export type PersistedTurn = StartedTurn;

export async function prepareTurn(
  store: ConversationStore,
  userId: string,
  conversationId: string | undefined,
  maxConversationMessages: number,
): Promise<PreparedTurn> {
  if (conversationId === undefined) return { conversation: undefined, history: [] };
  const conversation = await store.getConversation(userId, conversationId);
  if (conversation === undefined) throw new WxstreamError('not_found', `No conversation ${conversationId}`);
  const history = await store.listMessages(userId, conversationId);
  assertConversationHasRoom(history.length, maxConversationMessages);
  return { conversation, history };
}

export async function persistTurn(
  store: ConversationStore,
  userId: string,
  turn: PreparedTurn,
  message: string,
  model: string,
): Promise<PersistedTurn> {
  return store.startTurn(userId, {
    conversation: turn.conversation === undefined ? { newTitle: titleFromMessage(message) } : { id: turn.conversation.id },
    text: message,
    model,
  });
}
