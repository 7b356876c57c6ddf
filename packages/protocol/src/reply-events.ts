/**
 * The typed stream parts of one reply.
 *
 * Contract: a reply is a sequence of events with ids 1, 2, 3 … ; `start` is always first; `reasoning`
 * parts come before the first `delta`; at most one `usage`; exactly one terminal event (`done` or
 * `error`) ends it and nothing follows. A reply that asked for voice (and whose `start` says
 * `voice: true`) also carries `audio` events, one per spoken segment with indexes 0, 1, 2 … in
 * strict order, interleaved with the text that they speak and all before the terminal event. When the
 * server offers follow-up questions, at most one `suggestions` event comes after the reply's last text
 * and before its `usage` and `done` (never with `error`); a client that does not know it skips it. `parseReplyEvent` is the single gate through which clients
 * turn an SSE message into a typed event, so a malformed or unknown event never reaches UI state.
 */
import { isErrorCode, type ErrorCode } from './error-codes.ts';
import type { WireError } from './wire-error.ts';

/** Why the model stopped. `stopped` means the user pressed stop. Unknown provider reasons pass through. */
export type FinishReason = 'stop' | 'length' | 'content_filter' | 'tool_calls' | 'stopped' | (string & {});

export interface StartData {
  conversationId: string;
  messageId: string;
  /** The user message this reply answers (the id `editOf` takes to edit it). Absent from older servers. */
  userMessageId?: string;
  model: string;
  /** Present when the request asked for voice: true when `audio` events follow, false when voice is off on this server. */
  voice?: boolean;
}
export interface TextData {
  text: string;
}
export interface UsageData {
  promptTokens: number;
  completionTokens: number;
}
export interface DoneData {
  finishReason: FinishReason;
}

/** Containers an `audio` segment can come in; the player picks by this, not by sniffing. */
export type AudioFormat = 'mp3' | 'wav' | 'aac' | 'opus' | 'flac';
export const AUDIO_FORMATS: readonly AudioFormat[] = ['mp3', 'wav', 'aac', 'opus', 'flac'];

/**
 * One spoken segment of the reply. `url` is where to fetch it — a path on the server that sent the
 * event (e.g. `/api/audio/…?exp=…&sig=…`), or an absolute URL when the server has a public base URL
 * set; it is signed and short-lived because the audio player cannot send an Authorization header.
 */
export interface AudioSegmentData {
  index: number;
  url: string;
  /** The words spoken (markdown removed), for captions and replays. */
  text: string;
  format: AudioFormat;
  durationMs?: number;
}
/** A segment that could not be synthesized: its text still arrived as deltas; playback moves on. */
export interface AudioSkippedData {
  index: number;
  skipped: true;
  code: ErrorCode;
  text?: string;
}
export type AudioData = AudioSegmentData | AudioSkippedData;

export function isSkippedAudio(data: AudioData): data is AudioSkippedData {
  return 'skipped' in data && data.skipped === true;
}

/** Most follow-up questions one `suggestions` event carries. */
export const MAX_SUGGESTIONS = 3;
/** Longest follow-up question, in code points. */
export const MAX_SUGGESTION_CHARS = 60;

/** Short follow-up questions the user may tap to send next (1…`MAX_SUGGESTIONS`, each non-blank). */
export interface SuggestionsData {
  items: string[];
}

export interface ReplyEventDataMap {
  start: StartData;
  reasoning: TextData;
  delta: TextData;
  usage: UsageData;
  audio: AudioData;
  suggestions: SuggestionsData;
  done: DoneData;
  error: WireError;
}

export type ReplyEventType = keyof ReplyEventDataMap;

export type ReplyEvent = {
  [K in ReplyEventType]: { id: number; type: K; data: ReplyEventDataMap[K] };
}[ReplyEventType];

export type TerminalReplyEvent = Extract<ReplyEvent, { type: 'done' | 'error' }>;

export const REPLY_EVENT_TYPES: readonly ReplyEventType[] = ['start', 'reasoning', 'delta', 'usage', 'audio', 'suggestions', 'done', 'error'];

export function isTerminalEvent(event: ReplyEvent): event is TerminalReplyEvent {
  return event.type === 'done' || event.type === 'error';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

function validData(type: ReplyEventType, data: unknown): boolean {
  if (!isRecord(data)) return false;
  switch (type) {
    case 'start':
      return (
        typeof data.conversationId === 'string' &&
        typeof data.messageId === 'string' &&
        (data.userMessageId === undefined || typeof data.userMessageId === 'string') &&
        typeof data.model === 'string' &&
        (data.voice === undefined || typeof data.voice === 'boolean')
      );
    case 'reasoning':
    case 'delta':
      return typeof data.text === 'string';
    case 'usage':
      return isCount(data.promptTokens) && isCount(data.completionTokens);
    case 'audio':
      if (!isCount(data.index)) return false;
      if (data.skipped === true) return typeof data.code === 'string' && (data.text === undefined || typeof data.text === 'string');
      return (
        typeof data.url === 'string' &&
        data.url !== '' &&
        typeof data.text === 'string' &&
        (AUDIO_FORMATS as readonly unknown[]).includes(data.format) &&
        (data.durationMs === undefined || isCount(data.durationMs))
      );
    case 'suggestions':
      return (
        Array.isArray(data.items) &&
        data.items.length >= 1 &&
        data.items.length <= MAX_SUGGESTIONS &&
        data.items.every((item) => typeof item === 'string' && item.trim() !== '')
      );
    case 'done':
      return typeof data.finishReason === 'string';
    case 'error':
      return typeof data.code === 'string' && typeof data.message === 'string' && typeof data.retryable === 'boolean';
  }
}

export type ParseReplyEventResult = { ok: true; event: ReplyEvent } | { ok: false; reason: string };

/**
 * Turns one SSE message into a typed reply event. Unknown event types are reported (not thrown) so a
 * client can skip events a newer server adds; an `error` event with a code this client does not know
 * keeps its message and is mapped to `upstream_error` so the UI still has a stable code.
 */
export function parseReplyEvent(message: { event: string; data: string; id: string }): ParseReplyEventResult {
  const type = message.event as ReplyEventType;
  if (!REPLY_EVENT_TYPES.includes(type)) return { ok: false, reason: `unknown event type "${message.event}"` };
  const id = Number(message.id);
  if (!Number.isSafeInteger(id) || id < 1) return { ok: false, reason: `bad event id "${message.id}"` };
  let data: unknown;
  try {
    data = JSON.parse(message.data);
  } catch {
    return { ok: false, reason: `event ${id} (${type}) has data that is not JSON` };
  }
  if (!validData(type, data)) return { ok: false, reason: `event ${id} (${type}) has data of the wrong shape` };
  if (type === 'error') {
    const wire = data as { code: string; message: string; retryable: boolean };
    const code = isErrorCode(wire.code) ? wire.code : 'upstream_error';
    return { ok: true, event: { id, type, data: { code, message: wire.message, retryable: wire.retryable } } };
  }
  if (type === 'audio') return { ok: true, event: { id, type, data: audioData(data as Record<string, unknown>) } };
  if (type === 'suggestions') return { ok: true, event: { id, type, data: { items: [...(data as SuggestionsData).items] } } };
  return { ok: true, event: { id, type, data } as ReplyEvent };
}

/** Keeps only the fields of the contract (a newer server may add some) and maps unknown skip codes. */
function audioData(data: Record<string, unknown>): AudioData {
  const index = data.index as number;
  if (data.skipped === true) {
    const code: ErrorCode = isErrorCode(data.code) ? data.code : 'tts_failed';
    return typeof data.text === 'string' ? { index, skipped: true, code, text: data.text } : { index, skipped: true, code };
  }
  const segment: AudioSegmentData = { index, url: data.url as string, text: data.text as string, format: data.format as AudioFormat };
  if (typeof data.durationMs === 'number') segment.durationMs = data.durationMs;
  return segment;
}
