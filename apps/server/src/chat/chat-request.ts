/**
 * Validates a parsed `/api/chat` body into a `ChatRequest`.
 *
 * Contract: pure. `message` must be a string that is not empty or only whitespace
 * (`message_required`) and at most `maxMessageChars` code points (`message_too_long`: a user
 * counts an emoji as one character, not two UTF-16 units). A message holding a lone surrogate
 * (legal in JSON as `\ud800`, but not text: it has no UTF-8 form to store or send upstream) is
 * `invalid_request`, like body bytes that are not UTF-8. `conversationId`, when present, must be
 * 1–64 characters of `[A-Za-z0-9_-]` — it will become a storage key, so nothing else gets in.
 * `voice`, when present, must be a boolean; `voiceName` (only with `voice: true`) 1-64 characters of
 * `[A-Za-z0-9_.-]` — it is passed to a speech provider and into cache keys, so nothing else gets in.
 * `requestId`, when present, must match `REQUEST_ID_PATTERN` (8–64 of `[A-Za-z0-9_-]`: it becomes a
 * key); `delivery`, when present, `stream` or `poll`.
 * Any other shape problem is `invalid_request`. Unknown fields are ignored for forward compatibility.
 */
import { REPLY_DELIVERIES, WxstreamError, isValidRequestId, type ChatRequest, type ReplyDelivery } from '@wxstream/protocol';

export const CONVERSATION_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const VOICE_NAME_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Text JSON allows but UTF-8 cannot carry: it could be neither stored nor sent on faithfully. */
export function hasLoneSurrogate(text: string): boolean {
  return LONE_SURROGATE.test(text);
}

export function countCodePoints(text: string): number {
  let count = 0;
  for (const _ of text) count += 1;
  return count;
}

/** A new turn's request as the route uses it: the message is there. */
export type NewTurnRequest = ChatRequest & { message: string };

export function parseChatRequest(body: unknown, limits: { maxMessageChars: number }): NewTurnRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new WxstreamError('invalid_request', 'Request body must be a JSON object');
  }
  const { message, conversationId, voice, voiceName, requestId, delivery } = body as Record<string, unknown>;
  if (message === undefined || message === null) throw new WxstreamError('message_required', 'message is required');
  if (typeof message !== 'string') throw new WxstreamError('invalid_request', 'message must be a string');
  if (message.trim() === '') throw new WxstreamError('message_required', 'message must not be empty');
  if (hasLoneSurrogate(message)) throw new WxstreamError('invalid_request', 'message is not valid Unicode text (lone surrogate)');
  const length = countCodePoints(message);
  if (length > limits.maxMessageChars) {
    throw new WxstreamError('message_too_long', `message has ${length} characters; the limit is ${limits.maxMessageChars}`);
  }
  const request: NewTurnRequest = { message };
  if (conversationId !== undefined) {
    if (typeof conversationId !== 'string' || !CONVERSATION_ID_PATTERN.test(conversationId)) {
      throw new WxstreamError('invalid_request', 'conversationId must be 1-64 characters of A-Z, a-z, 0-9, _ or -');
    }
    request.conversationId = conversationId;
  }
  if (voice !== undefined && typeof voice !== 'boolean') throw new WxstreamError('invalid_request', 'voice must be true or false');
  if (voice === true) request.voice = true;
  if (voiceName !== undefined) {
    if (typeof voiceName !== 'string' || !VOICE_NAME_PATTERN.test(voiceName)) {
      throw new WxstreamError('invalid_request', 'voiceName must be 1-64 characters of A-Z, a-z, 0-9, _, . or -');
    }
    if (voice !== true) throw new WxstreamError('invalid_request', 'voiceName needs "voice": true');
    request.voiceName = voiceName;
  }
  if (requestId !== undefined) {
    if (!isValidRequestId(requestId)) throw new WxstreamError('invalid_request', 'requestId must be 8-64 characters of A-Z, a-z, 0-9, _ or -');
    request.requestId = requestId;
  }
  if (delivery !== undefined) {
    if (typeof delivery !== 'string' || !(REPLY_DELIVERIES as readonly string[]).includes(delivery)) {
      throw new WxstreamError('invalid_request', `delivery must be one of ${REPLY_DELIVERIES.join(', ')}`);
    }
    request.delivery = delivery as ReplyDelivery;
  }
  return request;
}
