/**
 * What every speech-to-text provider does, and the error it fails with.
 *
 * Contract: `transcribe(request)` resolves with the words heard, trimmed — an empty `text` means
 * the provider heard no speech, and the route answers `no_speech` for it — or rejects with a
 * `TranscriptionError`: `stt_failed` (this recording could not be transcribed now: timeout,
 * provider error, undecodable audio; `retryable` says whether sending it again may help),
 * `stt_unavailable` (the provider cannot work as configured: program missing, credentials
 * refused), `language_unsupported`, or `audio_unsupported` (the provider cannot take this format).
 * When `signal` aborts, the provider stops its work (kills processes, cancels requests) and rejects
 * with the signal's reason. Providers keep nothing of the audio once they settle.
 */
import { WxstreamError, type TranscriptionFormat } from '@wxstream/protocol';

export interface TranscriptionRequest {
  readonly audio: Buffer;
  readonly format: TranscriptionFormat;
  readonly sampleRate: number;
  readonly durationMs: number;
  /** The language the user asked for (`zh`, `en`, …); the provider's default when undefined. */
  readonly language: string | undefined;
  readonly signal?: AbortSignal;
}

export interface Transcript {
  readonly text: string;
  readonly language?: string;
}

export interface Transcriber {
  /** `openai`, `youdao` or `pocketsphinx`. */
  readonly id: string;
  /** Languages it recognises; empty when any the provider knows may be asked for. */
  readonly languages: readonly string[];
  /** Formats it can take (the route refuses others with `audio_unsupported` before calling it). */
  readonly formats: readonly TranscriptionFormat[];
  /** Why every transcription will fail (a program missing), or undefined. */
  readonly unavailableReason: string | undefined;
  transcribe(request: TranscriptionRequest): Promise<Transcript>;
}

export type TranscriptionErrorCode = 'stt_failed' | 'stt_unavailable' | 'language_unsupported' | 'audio_unsupported';

/** `retryable`: whether the same recording may be transcribed on another try (the code's default otherwise). */
export class TranscriptionError extends WxstreamError {
  declare readonly code: TranscriptionErrorCode;

  constructor(code: TranscriptionErrorCode, message: string, options?: { retryable?: boolean; cause?: unknown }) {
    super(code, message, options);
    this.name = 'TranscriptionError';
  }
}
