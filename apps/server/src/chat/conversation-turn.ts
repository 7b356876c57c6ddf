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
 * the assistant's reply as `streaming`. Storing only then keeps a turn the provider refused (a
 * JSON error before the stream) out of the history: the client may simply send it again. If a
 * step fails after a new conversation was created, that empty conversation is removed again.
 */
import { WxstreamError } from '@wxstream/protocol';
import { assertConversationHasRoom } from '../limits/conversation-length.ts';
import type { ConversationRecord, ConversationStore, MessageRecord } from '../storage/conversation-store.ts';
import { titleFromMessage } from '../storage/conversation-title.ts';

export interface PreparedTurn {
  /** Undefined when the turn starts a new conversation. */
  readonly conversation: ConversationRecord | undefined;
  /** The conversation's messages before this turn, oldest first. */
  readonly history: readonly MessageRecord[];
}

export interface PersistedTurn {
  readonly conversationId: string;
  readonly userMessage: MessageRecord;
  readonly reply: MessageRecord;
}

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
  const conversation = turn.conversation ?? (await store.createConversation(userId, titleFromMessage(message)));
  try {
    const userMessage = await store.addUserMessage(userId, conversation.id, { text: message });
    const reply = await store.startAssistantMessage(userId, conversation.id, { model });
    return { conversationId: conversation.id, userMessage, reply };
  } catch (error) {
    if (turn.conversation === undefined) await store.deleteConversation(userId, conversation.id).catch(() => {});
    throw error;
  }
}
