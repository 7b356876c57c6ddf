/**
 * The one interface every speech synthesizer implements (Youdao, OpenAI-compatible, espeak-ng).
 *
 * Contract: `synthesize` resolves with the whole audio of `text` spoken in `voice`, or rejects
 * with a `TtsError` (`tts_failed` for this text, `tts_unavailable` for the provider as a whole)
 * whose message names the cause and never carries credentials. When `signal` aborts, it stops
 * the work it started (HTTP request, child processes) and rejects with `signal.reason` — not a
 * `TtsError`, because stopping is not a failure. Providers keep no per-reply state, so one
 * instance serves every reply concurrently.
 */

import type { AudioFormat } from '@wxstream/protocol';

export type { AudioFormat };

export const AUDIO_CONTENT_TYPES: Readonly<Record<AudioFormat, string>> = {
  mp3: 'audio/mpeg',
  wav: 'audio/wav',
  aac: 'audio/aac',
  opus: 'audio/ogg',
  flac: 'audio/flac',
};

export interface SynthesisRequest {
  readonly text: string;
  /** A provider-specific voice name; each provider documents its default. */
  readonly voice: string;
  readonly signal?: AbortSignal;
}

export interface SynthesizedAudio {
  readonly audio: Buffer;
  readonly format: AudioFormat;
  /** Playing time, when the provider or the container tells it. */
  readonly durationMs?: number;
}

export interface TtsProvider {
  /** Stable name for cache keys and logs, e.g. `youdao`, `openai:tts-1`, `espeak-ng`. */
  readonly id: string;
  /** The voice used when the configuration names none. */
  readonly defaultVoice: string;
  synthesize(request: SynthesisRequest): Promise<SynthesizedAudio>;
}
