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
  ConversationPage,
  ConversationSummary,
  StoredMessage,
  StoredMessageStatus,
} from '../vendor/wxstream-client.js';

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

export function readStoredMessage(value: unknown): StoredMessage | undefined {
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
  const messages: StoredMessage[] = [];
  for (const item of value.messages) {
    const message = readStoredMessage(item);
    if (!message) return undefined;
    messages.push(message);
  }
  return { conversation, messages };
}
