/**
 * Checks that JSON from the conversation routes has the shapes the protocol promises, so a malformed
 * answer (a newer or broken server, a proxy page) becomes a `bad_response` at the edge instead of an
 * `undefined` deep inside a page.
 *
 * Contract: each `read…` returns a value built from the fields it checked — required fields must have
 * their types; optional ones are copied only when present with the right type; unknown fields are
 * dropped — or `undefined` when the value is not of the shape. Unknown message statuses are kept as
 * `error` so an old client still marks a reply it cannot describe as incomplete.
 */
import type {
  ConversationDetail,
  CurrentVersionResponse,
  MessageFeedback,
  TurnVersion,
  TurnVersions,
  ConversationPage,
  ConversationSummary,
  StoredMessage,
  StoredMessageStatus,
} from '../vendor/wxstream-client.js';
import type { ConversationMessagesPage } from './conversations-api.ts';

type Json = Record<string, unknown>;

const STATUSES: readonly StoredMessageStatus[] = ['streaming', 'complete', 'stopped', 'error', 'blocked'];

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

export function readConversationSummary(value: unknown): ConversationSummary | undefined {
  if (!isRecord(value)) return undefined;
  const { id, title, createdAt, updatedAt } = value;
  if (typeof id !== 'string' || id === '' || typeof title !== 'string') return undefined;
  if (typeof createdAt !== 'string' || typeof updatedAt !== 'string') return undefined;
  return { id, title, createdAt, updatedAt };
}

export function readConversationPage(value: unknown): ConversationPage | undefined {
  if (!isRecord(value) || !Array.isArray(value.items)) return undefined;
  const { nextCursor } = value;
  if (nextCursor !== null && (typeof nextCursor !== 'string' || nextCursor === '')) return undefined;
  const items: ConversationSummary[] = [];
  for (const item of value.items) {
    const summary = readConversationSummary(item);
    if (!summary) return undefined;
    items.push(summary);
  }
  return { items, nextCursor };
}

/** The fields every stored message has (feedback and versions are read by `readStoredMessage`). */
function readMessageFields(value: unknown): StoredMessage | undefined {
  if (!isRecord(value)) return undefined;
  const { id, role, text, status, createdAt, updatedAt } = value;
  if (typeof id !== 'string' || (role !== 'user' && role !== 'assistant') || typeof text !== 'string') return undefined;
  if (typeof status !== 'string' || typeof createdAt !== 'string' || typeof updatedAt !== 'string') return undefined;
  const message: StoredMessage = {
    id,
    role,
    text,
    status: (STATUSES as readonly string[]).includes(status) ? (status as StoredMessageStatus) : 'error',
    createdAt,
    updatedAt,
  };
  if (typeof value.reasoning === 'string') message.reasoning = value.reasoning;
  if (typeof value.finishReason === 'string') message.finishReason = value.finishReason;
  if (typeof value.errorCode === 'string') message.errorCode = value.errorCode;
  if (typeof value.model === 'string') message.model = value.model;
  const usage = value.usage;
  if (isRecord(usage) && isCount(usage.promptTokens) && isCount(usage.completionTokens)) {
    message.usage = { promptTokens: usage.promptTokens, completionTokens: usage.completionTokens };
  }
  return message;
}

export function readConversationDetail(value: unknown): ConversationDetail | undefined {
  if (!isRecord(value) || !Array.isArray(value.messages)) return undefined;
  const conversation = readConversationSummary(value.conversation);
  if (!conversation) return undefined;
  const messages = readStoredMessages(value.messages);
  return messages ? { conversation, messages } : undefined;
}

function readFeedback(value: unknown): MessageFeedback | undefined {
  if (!isRecord(value) || (value.rating !== 'up' && value.rating !== 'down')) return undefined;
  const feedback: MessageFeedback = { rating: value.rating, updatedAt: typeof value.updatedAt === 'string' ? value.updatedAt : '' };
  if (typeof value.comment === 'string') feedback.comment = value.comment;
  return feedback;
}

function readVersions(value: unknown): TurnVersions | undefined {
  if (!isRecord(value) || !Array.isArray(value.items) || !isCount(value.current)) return undefined;
  const items: TurnVersion[] = [];
  for (const item of value.items) {
    if (!isRecord(item)) return undefined;
    const { messageId, userMessageId, createdAt, status } = item;
    if (typeof messageId !== 'string' || messageId === '' || typeof userMessageId !== 'string' || typeof createdAt !== 'string') return undefined;
    const known = typeof status === 'string' && (STATUSES as readonly string[]).includes(status);
    items.push({ messageId, userMessageId, createdAt, status: known ? (status as StoredMessageStatus) : 'error' });
  }
  if (value.current >= items.length) return undefined;
  return { current: value.current, items };
}

/**
 * A stored message with its feedback and versions. Malformed feedback or versions are dropped rather
 * than failing the whole conversation: they decorate a message that is still worth showing. A single
 * version is no choice, so it is dropped too.
 */
export function readStoredMessage(value: unknown): StoredMessage | undefined {
  const message = readMessageFields(value);
  if (!message || !isRecord(value)) return undefined;
  const feedback = readFeedback(value.feedback);
  if (feedback) message.feedback = feedback;
  const versions = readVersions(value.versions);
  if (versions && versions.items.length > 1) message.versions = versions;
  return message;
}

function readStoredMessages(value: unknown): StoredMessage[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const messages: StoredMessage[] = [];
  for (const item of value) {
    const message = readStoredMessage(item);
    if (!message) return undefined;
    messages.push(message);
  }
  return messages;
}

/** The answer of making a version current: the turn's question and reply as they now read. */
export function readCurrentVersionResponse(value: unknown): CurrentVersionResponse | undefined {
  if (!isRecord(value)) return undefined;
  const messages = readStoredMessages(value.messages);
  return messages ? { messages } : undefined;
}

/** One page of a conversation's messages; the unpaged answer (no `nextCursor`) is a single last page. */
export function readConversationMessagesPage(value: unknown): ConversationMessagesPage | undefined {
  if (!isRecord(value) || !Array.isArray(value.messages)) return undefined;
  const conversation = readConversationSummary(value.conversation);
  if (!conversation) return undefined;
  const { nextCursor } = value;
  if (nextCursor !== undefined && nextCursor !== null && (typeof nextCursor !== 'string' || nextCursor === '')) return undefined;
  const messages = readStoredMessages(value.messages);
  if (!messages) return undefined;
  return { conversation, messages, nextCursor: nextCursor ?? null };
}
