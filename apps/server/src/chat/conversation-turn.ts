/**
 * The storage side of one chat turn, in the two steps the route needs.
 *
 * Contract: `prepareTurn` runs before anything is sent upstream and only reads: the conversation
 * to continue (another user's, or none, is 404 `not_found`), its messages so far — the current
 * version of every turn — and what the reply will answer:
 * - a new turn answers `message`; its history is every current message, and it must still fit
 *   (409 `conversation_too_long`). Without a conversation id it starts a new conversation.
 * - a regenerated reply answers the last turn's stored question again; an edited turn answers the
 *   new `message` in place of that question (`editOf` must be its id). Either way the history is
 *   the messages before the last turn, which the new version replaces in the conversation's length
 *   too. A conversation with no reply yet cannot be regenerated, and only its last question can be
 *   edited: both 400 `invalid_request`.
 *
 * `persistTurn` runs once the provider has accepted the request: in one transaction it creates the
 * conversation (titled from the first message) when the turn starts one, and stores the question
 * and the reply as `streaming` — a new turn (`startTurn`), a new version of the last reply
 * (`startRegeneration`) or of the last turn (`startEdit`) — so either all of it is stored or, on
 * failure, none of it. The store checks again, inside that transaction, that the last turn is the one
 * prepared (nothing else can have changed it: the user's reply lock is held), and that nothing streams.
 * Storing only then keeps a turn the provider refused (a JSON error before the stream) out of the
 * history: the client may simply send it again.
 */
import { WxstreamError } from '@wxstream/protocol';
import { assertConversationHasRoom } from '../limits/conversation-length.ts';
import type { ConversationRecord, ConversationStore, MessageRecord, StartedTurn } from '../storage/conversation-store.ts';
import { titleFromMessage } from '../storage/conversation-title.ts';
import type { ParsedChatRequest } from './chat-request.ts';

export interface PreparedTurn {
  /** Undefined when the turn starts a new conversation. */
  readonly conversation: ConversationRecord | undefined;
  /** The conversation's messages before this turn (before the last turn for a new version), oldest first. */
  readonly history: readonly MessageRecord[];
  /** The text the reply answers. */
  readonly question: string;
  /** Set when the turn is a new version of the last one: which kind, and the question it replaces or answers again. */
  readonly revision: { readonly kind: 'regenerate' | 'edit'; readonly questionId: string } | undefined;
}

export type PersistedTurn = StartedTurn;

export async function prepareTurn(
  store: ConversationStore,
  userId: string,
  request: ParsedChatRequest,
  maxConversationMessages: number,
): Promise<PreparedTurn> {
  const { conversationId, turn } = request;
  if (conversationId === undefined) return { conversation: undefined, history: [], question: messageOf(request), revision: undefined };
  const conversation = await store.getConversation(userId, conversationId);
  if (conversation === undefined) throw new WxstreamError('not_found', `No conversation ${conversationId}`);
  const messages = await store.listMessages(userId, conversationId);
  if (turn.kind === 'new') {
    assertConversationHasRoom(messages.length, maxConversationMessages);
    return { conversation, history: messages, question: messageOf(request), revision: undefined };
  }
  const lastTurn = messages.at(-1)?.turn;
  const last = messages.filter((message) => message.turn === lastTurn);
  const question = last.find((message) => message.role === 'user');
  const history = messages.filter((message) => message.turn !== lastTurn);
  if (turn.kind === 'regenerate') {
    if (question === undefined || !last.some((message) => message.role === 'assistant')) {
      throw new WxstreamError('invalid_request', `Conversation ${conversationId} has no reply to regenerate yet`);
    }
    return { conversation, history, question: question.text, revision: { kind: 'regenerate', questionId: question.id } };
  }
  if (question === undefined || question.id !== turn.editOf) {
    throw new WxstreamError('invalid_request', `${turn.editOf} is not the last user message of conversation ${conversationId}; only the last question can be edited`);
  }
  return { conversation, history, question: messageOf(request), revision: { kind: 'edit', questionId: question.id } };
}

function messageOf(request: ParsedChatRequest): string {
  if (request.message === undefined) throw new Error('a new turn or an edit always has a message (parseChatRequest)');
  return request.message;
}

export async function persistTurn(store: ConversationStore, userId: string, turn: PreparedTurn, model: string): Promise<PersistedTurn> {
  const { conversation, revision, question } = turn;
  if (conversation === undefined) return store.startTurn(userId, { conversation: { newTitle: titleFromMessage(question) }, text: question, model });
  if (revision === undefined) return store.startTurn(userId, { conversation: { id: conversation.id }, text: question, model });
  if (revision.kind === 'regenerate') return store.startRegeneration(userId, { conversationId: conversation.id, questionId: revision.questionId, model });
  return store.startEdit(userId, { conversationId: conversation.id, questionId: revision.questionId, text: question, model });
}
