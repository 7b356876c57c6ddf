/**
 * OpenAI-compatible transcription (`POST {baseURL}/audio/transcriptions`, multipart) through the
 * official `openai` SDK: OpenAI's Whisper and gpt-4o-transcribe models, and the compatible
 * services and self-hosted Whisper servers (faster-whisper-server, whisper.cpp's server, …).
 *
 * Contract: see transcriber.ts. Sends the recording as the `file` part, named `audio.<format>`
 * with its MIME type so servers that go by either recognise it, plus `model`, `language` when the
 * user gave one, and `response_format: json`; reads `text` from the answer. The whole exchange
 * runs under our own deadline on the injected clock; `maxRetries: 0` (a person is waiting; the
 * client retries). Errors map by HTTP status like the speech provider's (`classifyOpenAIFailure`): 401/403/404 are
 * `stt_unavailable`, 429 and 5xx retryable `stt_failed`, other 4xx non-retryable `stt_failed`
 * (the provider could not read this audio) — with the provider's words kept and keys removed.
 */
import { toFile } from 'openai';
import type { TranscriptionFormat } from '@wxstream/protocol';
import type { Clock } from '../clock.ts';
import { classifyOpenAIFailure } from '../upstream/openai-service-failure.ts';
import { openAIServiceClient } from '../upstream/openai-service-client.ts';
import { TranscriptionError, type Transcriber } from './transcriber.ts';

export const DEFAULT_OPENAI_TRANSCRIPTION_MODEL = 'whisper-1';

export const MIME_TYPES: Readonly<Record<TranscriptionFormat, string>> = {
  mp3: 'audio/mpeg',
  aac: 'audio/aac',
  m4a: 'audio/mp4',
  wav: 'audio/wav',
};

export interface OpenAITranscriberOptions {
  readonly apiKey: string | undefined;
  /** Undefined means the SDK's default, api.openai.com. */
  readonly baseURL: string | undefined;
  readonly model?: string;
  /** Whole exchange. */
  readonly timeoutMs: number;
  readonly clock: Clock;
}

export function createOpenAITranscriber(options: OpenAITranscriberOptions): Transcriber {
  const model = options.model ?? DEFAULT_OPENAI_TRANSCRIPTION_MODEL;
  const { client, secrets } = openAIServiceClient(options);

  function mapError(error: unknown): TranscriptionError {
    if (error instanceof TranscriptionError) return error;
    const failure = classifyOpenAIFailure(error, 'Transcription provider', secrets);
    return new TranscriptionError(failure.kind === 'unavailable' ? 'stt_unavailable' : 'stt_failed', failure.message, { retryable: failure.retryable, cause: error });
  }

  return {
    id: 'openai',
    languages: [],
    formats: ['mp3', 'aac', 'm4a', 'wav'],
    unavailableReason: undefined,
    async transcribe({ audio, format, language, signal }) {
      if (signal?.aborted === true) throw signal.reason;
      const deadline = new AbortController();
      const timer = options.clock.setTimeout(() => deadline.abort(), options.timeoutMs);
      const combined = signal === undefined ? deadline.signal : AbortSignal.any([signal, deadline.signal]);
      try {
        const file = await toFile(audio, `audio.${format}`, { type: MIME_TYPES[format] });
        const answer = await client.audio.transcriptions.create(
          { file, model, response_format: 'json', ...(language === undefined ? {} : { language }) },
          { signal: combined },
        );
        if (typeof answer.text !== 'string') throw new TranscriptionError('stt_failed', 'Transcription provider answered without a text', { retryable: true });
        return language === undefined ? { text: answer.text.trim() } : { text: answer.text.trim(), language };
      } catch (error) {
        // Read again: the check above narrowed `aborted` to false, but the client may have left since.
        if (signal !== undefined && Reflect.get(signal, 'aborted') === true) throw signal.reason;
        if (deadline.signal.aborted) {
          throw new TranscriptionError('stt_failed', `Transcription provider did not answer within ${options.timeoutMs} ms`, { retryable: true, cause: error });
        }
        throw mapError(error);
      } finally {
        options.clock.clearTimeout(timer);
      }
    },
  };
}
