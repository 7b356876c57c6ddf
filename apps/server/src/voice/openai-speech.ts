/**
 * OpenAI-compatible speech (`POST {baseURL}/audio/speech`) through the official `openai` SDK.
 *
 * Contract: see tts-provider.ts. Asks for MP3 (`response_format: 'mp3'`); a compatible server
 * that answers another audio type is taken at its word (the format follows `Content-Type`). The
 * SDK's own `timeout` stops at the response headers, so the whole exchange, body included, runs
 * under our own deadline on the injected clock. `maxRetries: 0`: retrying is the synthesis
 * queue's decision. Errors map by HTTP status (`classifyOpenAIFailure`) — 401/403/404 (bad key, no
 * access, unknown model or endpoint) are `tts_unavailable`; 429 and 5xx are retryable `tts_failed`;
 * other 4xx are non-retryable `tts_failed` — with the provider's words kept and API keys removed.
 */
import type { Clock } from '../clock.ts';
import { classifyOpenAIFailure } from '../upstream/openai-service-failure.ts';
import { openAIServiceClient } from '../upstream/openai-service-client.ts';
import { mp3Info } from './mp3-info.ts';
import { readBoundedBody } from '../http/read-bounded-body.ts';
import type { AudioFormat, TtsProvider } from './tts-provider.ts';
import { audioTooLarge, TtsError } from './voice-errors.ts';

export const DEFAULT_OPENAI_SPEECH_MODEL = 'tts-1';
export const DEFAULT_OPENAI_SPEECH_VOICE = 'alloy';
export const DEFAULT_OPENAI_SPEECH_MAX_AUDIO_BYTES = 8 * 1024 * 1024;

export interface OpenAISpeechOptions {
  readonly apiKey: string | undefined;
  /** Undefined means the SDK's default, api.openai.com. */
  readonly baseURL: string | undefined;
  readonly model?: string;
  readonly defaultVoice?: string;
  /** Whole exchange, headers and body. */
  readonly timeoutMs: number;
  readonly clock: Clock;
  readonly maxAudioBytes?: number;
}

const FORMATS_BY_CONTENT_TYPE: ReadonlyArray<readonly [RegExp, AudioFormat]> = [
  [/^audio\/(?:mpeg|mp3)\b/, 'mp3'],
  [/^audio\/(?:wav|x-wav|wave)\b/, 'wav'],
  [/^audio\/aac\b/, 'aac'],
  [/^audio\/(?:ogg|opus)\b/, 'opus'],
  [/^audio\/flac\b/, 'flac'],
];

function formatOf(contentType: string): AudioFormat | undefined {
  const lower = contentType.toLowerCase();
  if (lower === '' || lower.startsWith('application/octet-stream')) return 'mp3';
  return FORMATS_BY_CONTENT_TYPE.find(([pattern]) => pattern.test(lower))?.[1];
}

function isAborted(signal: AbortSignal): boolean {
  return signal.aborted;
}

export function createOpenAISpeech(options: OpenAISpeechOptions): TtsProvider {
  const model = options.model ?? DEFAULT_OPENAI_SPEECH_MODEL;
  const { client, secrets } = openAIServiceClient(options);
  const maxAudioBytes = options.maxAudioBytes ?? DEFAULT_OPENAI_SPEECH_MAX_AUDIO_BYTES;

  function mapError(error: unknown): TtsError {
    if (error instanceof TtsError) return error;
    const failure = classifyOpenAIFailure(error, 'Speech provider', secrets);
    return new TtsError(failure.kind === 'unavailable' ? 'tts_unavailable' : 'tts_failed', failure.message, { retryable: failure.retryable, cause: error });
  }

  return {
    id: `openai:${model}`,
    defaultVoice: options.defaultVoice ?? DEFAULT_OPENAI_SPEECH_VOICE,
    async synthesize({ text, voice, signal }) {
      if (signal?.aborted === true) throw signal.reason;
      const deadline = new AbortController();
      const timer = options.clock.setTimeout(() => deadline.abort(), options.timeoutMs);
      const combined = signal === undefined ? deadline.signal : AbortSignal.any([signal, deadline.signal]);
      try {
        const response = await client.audio.speech.create({ model, voice, input: text, response_format: 'mp3' }, { signal: combined });
        const contentType = response.headers.get('content-type') ?? '';
        const format = formatOf(contentType);
        if (format === undefined) {
          await response.body?.cancel();
          throw new TtsError('tts_failed', `Speech provider answered ${contentType} instead of audio`, { retryable: true });
        }
        const audio = await readBoundedBody(response, maxAudioBytes, (declared) => audioTooLarge('Speech provider', maxAudioBytes, declared));
        if (audio.length === 0) throw new TtsError('tts_failed', 'Speech provider answered no audio', { retryable: true });
        const durationMs = format === 'mp3' ? mp3Info(audio)?.durationMs : undefined;
        return durationMs === undefined ? { audio, format } : { audio, format, durationMs };
      } catch (error) {
        // Read again: the earlier check narrowed `aborted` to false, but the request may have been stopped since.
        if (signal !== undefined && isAborted(signal)) throw signal.reason;
        if (deadline.signal.aborted) {
          throw new TtsError('tts_failed', `Speech provider did not answer within ${options.timeoutMs} ms`, { retryable: true, cause: error });
        }
        throw mapError(error);
      } finally {
        options.clock.clearTimeout(timer);
      }
    },
  };
}
