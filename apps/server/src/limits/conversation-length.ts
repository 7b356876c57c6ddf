/**
 * The cap on messages per conversation (MAX_CONVERSATION_MESSAGES).
 *
 * Contract: a turn adds two messages (the user's and the reply), so it is refused with 409
 * `conversation_too_long` when it would take the conversation past `maxMessages`; a conversation
 * therefore never holds more than the cap. Not retryable: the user starts a new conversation.
 */
import { LimitExceededError } from './limit-exceeded-error.ts';

export const MESSAGES_PER_TURN = 2;

export function assertConversationHasRoom(storedMessages: number, maxMessages: number): void {
  if (storedMessages + MESSAGES_PER_TURN > maxMessages) {
    throw new LimitExceededError(
      'conversation_too_long',
      `The conversation holds ${storedMessages} messages; a new turn would pass the limit of ${maxMessages}`,
    );
  }
}
