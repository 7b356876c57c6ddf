/**
 * Validates a parsed `/api/chat` body into a `ChatRequest`.
 *
 * Contract: pure. `message` must be a string; it is cleaned as every user text is
 * (`text/user-text.ts`: NFC, bidi controls and stray control characters removed) and must then not
 * be empty or only white space and invisible characters (`message_required`), and at most
 * `maxMessageChars` code points (`message_too_long`: a user
 * counts an emoji as one character, not two UTF-16 units). A message holding a lone surrogate
 * (legal in JSON as `\ud800`, but not text: it has no UTF-8 form to store or send upstream) is
 * `invalid_request`, like body bytes that are not UTF-8. `conversationId`, when present, must be
 * 1–64 characters of `[A-Za-z0-9_-]` — it will become a storage key, so nothing else gets in.
 * `voice`, when present, must be a boolean; `voiceName` (only with `voice: true`) a string of 1-64
 * characters of `[A-Za-z0-9_.-]` starting with a letter or digit (`invalid_voice` otherwise) — it
 * is passed to a speech provider and into cache keys, so nothing else gets in; whether the
 * provider offers it is the voice service's question (`offersVoice`).
 * `requestId`, when present, must match `REQUEST_ID_PATTERN` (8–64 of `[A-Za-z0-9_-]`: it becomes a
 * key); `delivery`, when present, `stream` or `poll`.
 * Any other shape problem is `invalid_request`. Unknown fields are ignored for forward compatibility.
 *
 * A request is one of three turns (`turn` says which): a new one (`message`); a regenerated last
 * reply (`regenerate: true` with `conversationId`, and neither `message` nor `editOf`, since the
 * reply is made again from the stored question); an edited last question (`editOf`, an id as above,
 * with `conversationId` and `message`). `regenerate: false` means a new turn. Whether the
 * conversation has a reply to regenerate, or `editOf` is its last question, is the store's to say.
 */
import { REPLY_DELIVERIES, WxstreamError, isValidRequestId, type ChatRequest, type ReplyDelivery } from '@wxstream/protocol';
import { cleanUserText, isInvisible } from '../text/user-text.ts';
import { VOICE_NAME_PATTERN } from '../voice/offered-voices.ts';

export const CONVERSATION_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

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

/** What the request asks the conversation for. */
export type TurnRequest =
  | { readonly kind: 'new' }
  | { readonly kind: 'regenerate'; readonly conversationId: string }
  | { readonly kind: 'edit'; readonly conversationId: string; readonly editOf: string };

/** A chat request as the route uses it: `message` is there except to regenerate. */
export type ParsedChatRequest = ChatRequest & { readonly turn: TurnRequest };

export function parseChatRequest(body: unknown, limits: { maxMessageChars: number }): ParsedChatRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new WxstreamError('invalid_request', 'Request body must be a JSON object');
  }
  const fields = body as Record<string, unknown>;
  const { regenerate, editOf } = fields;
  if (regenerate !== undefined && typeof regenerate !== 'boolean') throw new WxstreamError('invalid_request', 'regenerate must be true or false');
  if (regenerate === true) return parseRegeneration(fields);
  const request = parseNewMessage(fields, limits);
  if (editOf === undefined) return { ...request, turn: { kind: 'new' } };
  if (typeof editOf !== 'string' || !CONVERSATION_ID_PATTERN.test(editOf)) {
    throw new WxstreamError('invalid_request', "editOf must be the id of the conversation's last user message");
  }
  if (request.conversationId === undefined) throw new WxstreamError('invalid_request', 'editOf needs the conversationId of the message it edits');
  return { ...request, turn: { kind: 'edit', conversationId: request.conversationId, editOf } };
}

function parseRegeneration(fields: Record<string, unknown>): ParsedChatRequest {
  if (fields.message !== undefined) {
    throw new WxstreamError('invalid_request', 'regenerate takes no message: the reply is made again from the stored question');
  }
  if (fields.editOf !== undefined) throw new WxstreamError('invalid_request', 'regenerate and editOf cannot be combined');
  const conversationId = parseConversationId(fields.conversationId);
  if (conversationId === undefined) throw new WxstreamError('invalid_request', 'regenerate needs the conversationId of the reply to make again');
  return { conversationId, regenerate: true, ...parseOptions(fields), turn: { kind: 'regenerate', conversationId } };
}

function parseConversationId(conversationId: unknown): string | undefined {
  if (conversationId === undefined) return undefined;
  if (typeof conversationId !== 'string' || !CONVERSATION_ID_PATTERN.test(conversationId)) {
    throw new WxstreamError('invalid_request', 'conversationId must be 1-64 characters of A-Z, a-z, 0-9, _ or -');
  }
  return conversationId;
}

/** What any turn may ask for besides its text: voice, an idempotency key, the delivery. */
type TurnOptions = Pick<ChatRequest, 'voice' | 'voiceName' | 'requestId' | 'delivery'>;

function parseOptions(fields: Record<string, unknown>): TurnOptions {
  const { voice, voiceName, requestId, delivery } = fields;
  if (voice !== undefined && typeof voice !== 'boolean') throw new WxstreamError('invalid_request', 'voice must be true or false');
  const request: TurnOptions = {};
  if (voice === true) request.voice = true;
  if (voiceName !== undefined) {
    if (typeof voiceName !== 'string') throw new WxstreamError('invalid_request', 'voiceName must be a string');
    if (!VOICE_NAME_PATTERN.test(voiceName)) {
      throw new WxstreamError('invalid_voice', 'voiceName must be 1-64 characters of A-Z, a-z, 0-9, _, . or -, starting with a letter or digit');
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

function parseNewMessage(fields: Record<string, unknown>, limits: { maxMessageChars: number }): ChatRequest & { message: string } {
  const { message: given } = fields;
  if (given === undefined || given === null) throw new WxstreamError('message_required', 'message is required');
  if (typeof given !== 'string') throw new WxstreamError('invalid_request', 'message must be a string');
  if (hasLoneSurrogate(given)) throw new WxstreamError('invalid_request', 'message is not valid Unicode text (lone surrogate)');
  const message = cleanUserText(given);
  if (isInvisible(message)) throw new WxstreamError('message_required', 'message must not be empty or only invisible characters');
  const length = countCodePoints(message);
  if (length > limits.maxMessageChars) {
    throw new WxstreamError('message_too_long', `message has ${length} characters; the limit is ${limits.maxMessageChars}`);
  }
  const conversationId = parseConversationId(fields.conversationId);
  return { message, ...(conversationId === undefined ? {} : { conversationId }), ...parseOptions(fields) };
}
