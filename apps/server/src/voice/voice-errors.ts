/**
 * Error codes for voice replies, and the error TTS providers reject with.
 *
 * These codes are a proposed protocol addition: they have the exact shape of `ERROR_CODES` entries
 * (@wxstream/protocol) so moving them there is a copy, after which `TtsError` can become a
 * `WxstreamError`. Until then they stay here, because the wire contract is owned elsewhere.
 *
 * - `tts_failed`: one segment could not be synthesized (provider error, timeout, bad answer). The
 *   reply goes on; that segment is skipped. Retrying may help.
 * - `tts_unavailable`: the provider cannot work at all as configured (program not installed,
 *   credentials refused, account suspended). Retrying does not help until an operator acts.
 * - `audio_link_invalid`: an audio URL whose signature does not match (tampered or foreign).
 * - `audio_range_not_satisfiable`: a `Range` outside the audio.
 */
import type { ErrorCodeSpec } from '@wxstream/protocol';

export const VOICE_ERROR_CODES = {
  tts_failed: { status: 502, retryable: true, origin: 'server', userMessage: '这段语音没能合成，已跳过。' },
  tts_unavailable: { status: 503, retryable: false, origin: 'server', userMessage: '语音朗读暂时不可用。' },
  audio_link_invalid: { status: 403, retryable: false, origin: 'server', userMessage: '语音链接无效。' },
  audio_range_not_satisfiable: { status: 416, retryable: false, origin: 'server', userMessage: '语音数据请求有误。' },
} as const satisfies Record<string, ErrorCodeSpec>;

export type VoiceErrorCode = keyof typeof VOICE_ERROR_CODES;
export type TtsErrorCode = Extract<VoiceErrorCode, 'tts_failed' | 'tts_unavailable'>;

export class TtsError extends Error {
  readonly code: TtsErrorCode;
  /** Whether synthesizing the same text again may succeed. */
  readonly retryable: boolean;

  constructor(code: TtsErrorCode, message: string, options?: { retryable?: boolean; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TtsError';
    this.code = code;
    this.retryable = options?.retryable ?? VOICE_ERROR_CODES[code].retryable;
  }
}

export function isTtsError(error: unknown): error is TtsError {
  return error instanceof TtsError;
}

/** A provider answered more audio than we keep for one segment: not worth retrying. */
export function audioTooLarge(who: string, maxBytes: number, declaredBytes?: number): TtsError {
  const message =
    declaredBytes === undefined
      ? `${who} answered more than the ${maxBytes} bytes allowed`
      : `${who} answered ${declaredBytes} bytes, more than the ${maxBytes} allowed`;
  return new TtsError('tts_failed', message, { retryable: false });
}
