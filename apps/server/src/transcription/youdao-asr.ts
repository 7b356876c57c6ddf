/**
 * Youdao's short speech recognition (有道智云 短语音识别, `POST {base}/asrapi`) as a `Transcriber`:
 * Chinese and English (and Youdao's other languages, by their codes), recordings up to 60 s.
 *
 * Contract: see transcriber.ts. One form POST per recording, the audio base64-encoded in `q`,
 * signed like Youdao's speech synthesis (`signType=v3`, `youdaoSign` from youdao-tts.ts: the
 * base64 text is ASCII, so the two ways of counting characters agree), with `format` (`mp3`,
 * `wav`, or `aac` for AAC in ADTS or M4A), `rate` (the recording's sample rate), `channel=1` and
 * `type=1`. The answer is JSON `{"errorCode":"0","result":["…"]}`. Youdao's "empty result"
 * (4304) is an empty transcript (the route's `no_speech`); account and signature problems are
 * `stt_unavailable`; format, rate and channel refusals `audio_unsupported`; language refusals
 * `language_unsupported`; rate limits and server errors retryable `stt_failed`. Messages carry
 * Youdao's code and meaning, never the app secret, the signature or the audio.
 */
import { randomUUID } from 'node:crypto';
import type { TranscriptionFormat } from '@wxstream/protocol';
import type { Clock } from '../clock.ts';
import { readBoundedBody } from '../http/read-bounded-body.ts';
import { DEFAULT_YOUDAO_BASE_URL, youdaoSign } from '../voice/youdao-tts.ts';
import { TranscriptionError, type Transcriber, type TranscriptionErrorCode } from './transcriber.ts';

export const DEFAULT_YOUDAO_ASR_LANG_TYPE = 'zh-CHS';
/** An error answer or a transcript of a minute of speech is a few KB. */
const MAX_ANSWER_BYTES = 256 * 1024;

/** Our language codes → Youdao's; any other code is passed through as Youdao's own (`yue`, `ja`, …). */
const LANG_TYPES: Readonly<Record<string, string>> = { zh: 'zh-CHS', 'zh-cn': 'zh-CHS', 'zh-hans': 'zh-CHS', 'zh-tw': 'zh-TWN', en: 'en', 'en-us': 'en', 'en-gb': 'en-GBR' };

/** Youdao's names for the formats it takes: an M4A holds AAC, which is what Youdao decodes. */
const YOUDAO_FORMATS: Readonly<Record<TranscriptionFormat, string>> = { mp3: 'mp3', wav: 'wav', aac: 'aac', m4a: 'aac' };

interface ErrorMeaning {
  readonly meaning: string;
  readonly code: TranscriptionErrorCode | 'empty';
  readonly retryable?: boolean;
}

const YOUDAO_ERRORS: Readonly<Record<string, ErrorMeaning>> = {
  '101': { meaning: 'a required parameter is missing', code: 'stt_unavailable' },
  '102': { meaning: 'unsupported language type', code: 'language_unsupported' },
  '108': { meaning: 'invalid app key', code: 'stt_unavailable' },
  '110': { meaning: 'no valid speech recognition instance for the app', code: 'stt_unavailable' },
  '111': { meaning: 'invalid developer account', code: 'stt_unavailable' },
  '202': { meaning: 'signature check failed (check the app secret)', code: 'stt_unavailable' },
  '203': { meaning: "server IP not on the app's allow list", code: 'stt_unavailable' },
  '206': { meaning: 'timestamp rejected (check the server clock)', code: 'stt_unavailable' },
  '207': { meaning: 'replayed request', code: 'stt_failed', retryable: true },
  '303': { meaning: 'Youdao server error', code: 'stt_failed', retryable: true },
  '401': { meaning: 'account in arrears', code: 'stt_unavailable' },
  '411': { meaning: 'rate limited', code: 'stt_failed', retryable: true },
  '412': { meaning: 'too many long requests', code: 'stt_failed', retryable: true },
  '4001': { meaning: 'unsupported audio format', code: 'audio_unsupported' },
  '4002': { meaning: 'unsupported sample rate', code: 'audio_unsupported' },
  '4003': { meaning: 'unsupported channel count', code: 'audio_unsupported' },
  '4005': { meaning: 'unsupported language type', code: 'language_unsupported' },
  '4006': { meaning: 'audio file too large', code: 'stt_failed', retryable: false },
  '4007': { meaning: 'audio too long', code: 'stt_failed', retryable: false },
  '4301': { meaning: 'recognition failed', code: 'stt_failed', retryable: true },
  '4303': { meaning: 'Youdao service error', code: 'stt_failed', retryable: true },
  '4304': { meaning: 'empty result', code: 'empty' },
  '4411': { meaning: 'rate limited', code: 'stt_failed', retryable: true },
  '4412': { meaning: 'over the request time allowance', code: 'stt_failed', retryable: true },
  '4414': { meaning: 'audio conversion failed', code: 'stt_failed', retryable: false },
};

export interface YoudaoAsrOptions {
  readonly appKey: string;
  readonly appSecret: string;
  /** Scheme, host and optional path prefix; `/asrapi` is appended. */
  readonly baseUrl?: string;
  /** Youdao's code for the language when the user names none. */
  readonly langType?: string;
  /** Whole exchange. */
  readonly timeoutMs: number;
  readonly clock: Clock;
  readonly randomUUID?: () => string;
}

export function youdaoLangType(language: string | undefined, fallback: string): string {
  if (language === undefined) return fallback;
  return LANG_TYPES[language.toLowerCase()] ?? language;
}

function answerError(errorCode: string): TranscriptionError | 'empty' {
  const known = YOUDAO_ERRORS[errorCode];
  if (known?.code === 'empty') return 'empty';
  const message = `Youdao speech recognition error ${errorCode}${known === undefined ? '' : `: ${known.meaning}`}`;
  return new TranscriptionError(known?.code ?? 'stt_failed', message, { retryable: known?.retryable ?? known === undefined });
}

export function createYoudaoAsr(options: YoudaoAsrOptions): Transcriber {
  const endpoint = `${(options.baseUrl ?? DEFAULT_YOUDAO_BASE_URL).replace(/\/+$/, '')}/asrapi`;
  const defaultLangType = options.langType ?? DEFAULT_YOUDAO_ASR_LANG_TYPE;
  const newSalt = options.randomUUID ?? randomUUID;

  return {
    id: 'youdao',
    languages: ['zh', 'en'],
    formats: ['mp3', 'aac', 'm4a', 'wav'],
    unavailableReason: undefined,
    async transcribe({ audio, format, sampleRate, language, signal }) {
      if (signal?.aborted === true) throw signal.reason;
      const q = audio.toString('base64');
      const salt = newSalt();
      const curtime = String(Math.floor(options.clock.now() / 1000));
      const langType = youdaoLangType(language, defaultLangType);
      const form = new URLSearchParams({
        q,
        langType,
        appKey: options.appKey,
        salt,
        curtime,
        sign: youdaoSign({ appKey: options.appKey, appSecret: options.appSecret, q, salt, curtime }),
        signType: 'v3',
        format: YOUDAO_FORMATS[format],
        rate: String(sampleRate),
        channel: '1',
        type: '1',
      });

      const timeout = new AbortController();
      const timer = options.clock.setTimeout(() => timeout.abort(), options.timeoutMs);
      const combined = signal === undefined ? timeout.signal : AbortSignal.any([signal, timeout.signal]);
      const failure = (error: unknown): unknown => {
        if (error instanceof TranscriptionError) return error;
        if (signal?.aborted === true) return signal.reason;
        if (timeout.signal.aborted) {
          return new TranscriptionError('stt_failed', `Youdao speech recognition did not answer within ${options.timeoutMs} ms`, { retryable: true, cause: error });
        }
        const cause = error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
        const detail = error instanceof Error ? `${error.message}${typeof cause?.code === 'string' ? ` (${cause.code})` : ''}` : String(error);
        return new TranscriptionError('stt_failed', `Youdao speech recognition could not be reached: ${detail}`, { retryable: true, cause: error });
      };
      try {
        const response = await fetch(endpoint, { method: 'POST', body: form, signal: combined });
        if (response.status !== 200) {
          await response.body?.cancel();
          const retryable = response.status >= 500 || response.status === 429;
          throw new TranscriptionError('stt_failed', `Youdao speech recognition answered HTTP ${response.status}`, { retryable });
        }
        const body = await readBoundedBody(response, MAX_ANSWER_BYTES, () => new TranscriptionError('stt_failed', 'Youdao speech recognition answered too much', { retryable: false }));
        let parsed: { errorCode?: unknown; result?: unknown };
        try {
          parsed = JSON.parse(body.toString('utf8')) as { errorCode?: unknown; result?: unknown };
        } catch {
          throw new TranscriptionError('stt_failed', 'Youdao speech recognition answered something that is not JSON', { retryable: true });
        }
        const errorCode = String(parsed.errorCode ?? '');
        if (errorCode !== '0') {
          const error = answerError(errorCode);
          if (error === 'empty') return { text: '', language: langType };
          throw error;
        }
        const parts = Array.isArray(parsed.result) ? parsed.result.filter((part): part is string => typeof part === 'string') : [];
        return { text: parts.join(' ').trim(), language: langType };
      } catch (error) {
        throw failure(error);
      } finally {
        options.clock.clearTimeout(timer);
      }
    },
  };
}
