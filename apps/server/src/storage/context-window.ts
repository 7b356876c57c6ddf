/**
 * Builds the `messages` sent upstream to continue a conversation, within a token budget.
 *
 * Contract: pure. The result is, in order: the system prompt (when given and not blank), the most
 * recent prior messages that fit, the new user message. The budget (`maxTokens`, measured with
 * `estimatePromptTokens`) is respected whenever the system prompt and the new message leave room;
 * those two are always sent even when they alone exceed it — the message length limit is enforced
 * before this, and dropping the user's question would answer something else.
 *
 * Which stored messages count as the conversation the model sees:
 * - `blocked` messages never: a refused question or reply must not steer the next answer.
 * - Assistant messages with no text are skipped (a reply that failed before its first word).
 * - `stopped` and `error` replies are kept with the text they reached: the user saw that text
 *   and may well say "go on" or refer to it; leaving it out would make the model answer a
 *   conversation the user never had.
 * - `streaming` ones are skipped (the store allows one reply at a time, so this only matters if a
 *   caller passes an in-flight reply).
 * - Reasoning is never sent back: it is not part of the dialogue, costs tokens, and some providers
 *   (DeepSeek) reject requests that include it.
 *
 * Trimming drops whole messages from the oldest end and stops at the first one that does not fit,
 * so the kept history is contiguous. The kept history never opens on an assistant reply (it is
 * dropped with the rest): an answer without its question confuses models, and some chat templates
 * require the first turn after the system prompt to be the user's.
 */
import type { StoredMessageStatus } from '@wxstream/protocol';
import type { ChatMessage } from '../upstream/upstream-model.ts';
import { estimateMessageTokens, REPLY_PRIMING_TOKENS } from './token-estimate.ts';

/** Prompt budget when MAX_CONTEXT_TOKENS is not configured; leaves room for a reply in an 8k+ model. */
export const DEFAULT_MAX_CONTEXT_TOKENS = 6000;

export interface HistoryMessage {
  readonly role: 'user' | 'assistant';
  readonly text: string;
  readonly status: StoredMessageStatus;
}

export interface ContextWindowInput {
  readonly systemPrompt?: string;
  /**
   * The conversation's messages BEFORE the new one, oldest first (`listMessages` read before
   * `addUserMessage`, or without its last item after). `MessageRecord` fits as it is.
   */
  readonly history: readonly HistoryMessage[];
  readonly userMessage: string;
  readonly maxTokens: number;
}

export interface ContextWindow {
  readonly messages: ChatMessage[];
  /** `estimatePromptTokens(messages)`: what usage is charged at when the provider reports none. */
  readonly estimatedTokens: number;
  /** Usable history messages left out by the budget or the user-first rule (for logs). */
  readonly droppedMessages: number;
}

function belongsInContext(message: HistoryMessage): boolean {
  if (message.status === 'blocked' || message.status === 'streaming') return false;
  return message.text.trim() !== '';
}

export function buildContextWindow(input: ContextWindowInput): ContextWindow {
  const system: ChatMessage[] =
    input.systemPrompt !== undefined && input.systemPrompt.trim() !== '' ? [{ role: 'system', content: input.systemPrompt }] : [];
  const user: ChatMessage = { role: 'user', content: input.userMessage };

  let used = REPLY_PRIMING_TOKENS + estimateMessageTokens(user);
  for (const message of system) used += estimateMessageTokens(message);

  const usable: ChatMessage[] = input.history
    .filter(belongsInContext)
    .map((message) => ({ role: message.role, content: message.text }));
  let start = usable.length;
  while (start > 0) {
    const candidate = usable[start - 1];
    if (candidate === undefined) break;
    const cost = estimateMessageTokens(candidate);
    if (used + cost > input.maxTokens) break;
    used += cost;
    start -= 1;
  }
  while (start < usable.length && usable[start]?.role === 'assistant') {
    used -= estimateMessageTokens(usable[start] as ChatMessage);
    start += 1;
  }
  return {
    messages: [...system, ...usable.slice(start), user],
    estimatedTokens: used,
    droppedMessages: start,
  };
}
