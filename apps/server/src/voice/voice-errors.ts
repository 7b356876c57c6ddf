/**
 * The error TTS providers reject with, and the voice codes' names on the server side.
 *
 * The codes themselves are protocol (`ERROR_CODES` in @wxstream/protocol), because clients see them:
 * - `tts_failed`: one segment could not be synthesized (provider error, timeout, bad answer). The
 *   reply goes on; that segment is skipped. Retrying may help.
 * - `tts_unavailable`: the provider cannot work at all as configured (program not installed,
 *   credentials refused, account suspended). Retrying does not help until an operator acts.
 * - `audio_link_invalid`: an audio URL whose signature does not match (tampered or foreign).
 * - `audio_range_not_satisfiable`: a `Range` outside the audio.
 */
import { ERROR_CODES } from '@wxstream/protocol';

export type VoiceErrorCode = 'tts_failed' | 'tts_unavailable' | 'audio_link_invalid' | 'audio_range_not_satisfiable';
export type TtsErrorCode = Extract<VoiceErrorCode, 'tts_failed' | 'tts_unavailable'>;

export class TtsError extends Error {
  readonly code: TtsErrorCode;
  /** Whether synthesizing the same text again may succeed. */
  readonly retryable: boolean;

  constructor(code: TtsErrorCode, message: string, options?: { retryable?: boolean; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TtsError';
    this.code = code;
    this.retryable = options?.retryable ?? ERROR_CODES[code].retryable;
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
