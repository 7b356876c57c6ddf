/**
 * Youdao's speech synthesis API (有道智云 语音合成, `POST {base}/ttsapi`) as a `TtsProvider`.
 *
 * Contract: see tts-provider.ts. One form POST per text, signed with `signType=v3`:
 * `sign = hex(sha256(appKey + input + salt + curtime + appSecret))`, with a fresh UUID `salt` per
 * request and `curtime` in whole seconds from the injected clock. `input` is the text when it has
 * at most 20 characters, else its first 10, its length and its last 10 (`youdaoSignInput`).
 *
 * How "character" is counted: Youdao's own reference code disagrees. The Java and JavaScript
 * demos count UTF-16 code units (`String.length()`, `substring`), the Python and Go demos count
 * code points (`len(str)`, `[]rune`). They agree for every text without characters outside the
 * BMP, which after `speakableText` (emoji removed) is nearly every text. We sign like the Java
 * demo — Youdao's service is a Java service — including Java's UTF-8 encoding of a surrogate
 * half that the cut leaves alone (it becomes `?`). When Youdao answers 202 (signature check
 * failed) for a text where the two conventions give different inputs, the request is sent once
 * more signed by code points, so either reading of the documentation is served.
 *
 * Errors arrive as HTTP 200 with a JSON body `{"errorCode": "…"}` and a JSON content type instead
 * of audio; they are recognised by content type and mapped: account or configuration problems
 * (bad app key, no TTS instance, signature, IP whitelist, arrears) are `tts_unavailable`, the
 * rest `tts_failed` (retryable where waiting can help: rate limits, server errors). Messages
 * carry Youdao's code and meaning, never the app secret, the signature or the text.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Clock } from '../clock.ts';
import { mp3Info } from './mp3-info.ts';
import { readBoundedBody } from '../http/read-bounded-body.ts';
import type { SynthesizedAudio, TtsProvider } from './tts-provider.ts';
import { audioTooLarge, TtsError } from './voice-errors.ts';

export const DEFAULT_YOUDAO_BASE_URL = 'https://openapi.youdao.com';
export const DEFAULT_YOUDAO_VOICE = 'youxiaoqin';
export const DEFAULT_YOUDAO_LANG_TYPE = 'zh-CHS';
/** A 150-character segment is well under 100 KB of MP3; anything near this is not speech. */
export const DEFAULT_YOUDAO_MAX_AUDIO_BYTES = 8 * 1024 * 1024;

export type YoudaoLengthUnit = 'utf16' | 'codepoint';

export interface YoudaoTtsOptions {
  readonly appKey: string;
  readonly appSecret: string;
  /** Scheme, host and optional path prefix; `/ttsapi` is appended. */
  readonly baseUrl?: string;
  readonly langType?: string;
  readonly defaultVoice?: string;
  /** Whole exchange, headers and body. */
  readonly timeoutMs: number;
  readonly clock: Clock;
  readonly randomUUID?: () => string;
  readonly maxAudioBytes?: number;
}

interface YoudaoErrorMeaning {
  readonly meaning: string;
  readonly code: 'tts_failed' | 'tts_unavailable';
  readonly retryable: boolean;
}

const YOUDAO_ERRORS: Readonly<Record<string, YoudaoErrorMeaning>> = {
  '101': { meaning: 'a required parameter is missing', code: 'tts_unavailable', retryable: false },
  '102': { meaning: 'unsupported language type', code: 'tts_unavailable', retryable: false },
  '103': { meaning: 'text too long', code: 'tts_failed', retryable: false },
  '108': { meaning: 'invalid app key', code: 'tts_unavailable', retryable: false },
  '110': { meaning: 'no valid instance of this service for the app', code: 'tts_unavailable', retryable: false },
  '111': { meaning: 'invalid developer account', code: 'tts_unavailable', retryable: false },
  '113': { meaning: 'empty text', code: 'tts_failed', retryable: false },
  '202': { meaning: 'signature check failed (check the app secret)', code: 'tts_unavailable', retryable: false },
  '203': { meaning: 'server IP not on the app\'s allow list', code: 'tts_unavailable', retryable: false },
  '206': { meaning: 'timestamp rejected (check the server clock)', code: 'tts_unavailable', retryable: false },
  '207': { meaning: 'replayed request', code: 'tts_failed', retryable: true },
  '303': { meaning: 'Youdao server error', code: 'tts_failed', retryable: true },
  '401': { meaning: 'account in arrears', code: 'tts_unavailable', retryable: false },
  '411': { meaning: 'rate limited', code: 'tts_failed', retryable: true },
  '412': { meaning: 'too many long requests', code: 'tts_failed', retryable: true },
};

const SIGNATURE_FAILED = '202';

/** The text part of the v3 signature: the text, or first 10 + length + last 10 past 20 characters. */
export function youdaoSignInput(q: string, unit: YoudaoLengthUnit = 'utf16'): string {
  if (unit === 'codepoint') {
    const chars = Array.from(q);
    if (chars.length <= 20) return q;
    return chars.slice(0, 10).join('') + String(chars.length) + chars.slice(-10).join('');
  }
  if (q.length <= 20) return q;
  return q.slice(0, 10) + String(q.length) + q.slice(q.length - 10);
}

/** Java's `String.getBytes(UTF_8)` writes `?` for a lone surrogate; Node would write U+FFFD. */
function javaUtf8(text: string): Buffer {
  return Buffer.from(text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '?'), 'utf8');
}

export interface YoudaoSignParts {
  readonly appKey: string;
  readonly appSecret: string;
  readonly q: string;
  readonly salt: string;
  readonly curtime: string;
  readonly unit?: YoudaoLengthUnit;
}

export function youdaoSign(parts: YoudaoSignParts): string {
  const input = youdaoSignInput(parts.q, parts.unit);
  return createHash('sha256')
    .update(javaUtf8(parts.appKey + input + parts.salt + parts.curtime + parts.appSecret))
    .digest('hex');
}

function describeTransportError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause as { code?: unknown } | undefined;
  return typeof cause?.code === 'string' ? `${error.message} (${cause.code})` : error.message;
}

/** A TtsError that remembers Youdao's own code, so the signature fallback can recognise 202. */
class YoudaoAnswerError extends TtsError {
  readonly errorCode: string;

  constructor(errorCode: string) {
    const known = YOUDAO_ERRORS[errorCode];
    super(known?.code ?? 'tts_failed', `Youdao TTS error ${errorCode}${known === undefined ? '' : `: ${known.meaning}`}`, {
      retryable: known?.retryable ?? true,
    });
    this.errorCode = errorCode;
  }
}

export function createYoudaoTts(options: YoudaoTtsOptions): TtsProvider {
  const endpoint = `${(options.baseUrl ?? DEFAULT_YOUDAO_BASE_URL).replace(/\/+$/, '')}/ttsapi`;
  const langType = options.langType ?? DEFAULT_YOUDAO_LANG_TYPE;
  const newSalt = options.randomUUID ?? randomUUID;
  const maxAudioBytes = options.maxAudioBytes ?? DEFAULT_YOUDAO_MAX_AUDIO_BYTES;

  /** One signed POST; resolves with audio or rejects with a TtsError (or the caller's abort reason). */
  async function exchange(text: string, voice: string, unit: YoudaoLengthUnit, signal: AbortSignal | undefined): Promise<SynthesizedAudio> {
    const salt = newSalt();
    const curtime = String(Math.floor(options.clock.now() / 1000));
    const form = new URLSearchParams({
      q: text,
      langType,
      appKey: options.appKey,
      salt,
      sign: youdaoSign({ appKey: options.appKey, appSecret: options.appSecret, q: text, salt, curtime, unit }),
      signType: 'v3',
      curtime,
      voiceName: voice,
      format: 'mp3',
    });

    const timeout = new AbortController();
    const timer = options.clock.setTimeout(() => timeout.abort(), options.timeoutMs);
    const combined = signal === undefined ? timeout.signal : AbortSignal.any([signal, timeout.signal]);
    try {
      let response: Response;
      try {
        response = await fetch(endpoint, { method: 'POST', body: form, signal: combined });
      } catch (error) {
        throw failure(error);
      }
      if (response.status !== 200) {
        await response.body?.cancel();
        const retryable = response.status >= 500 || response.status === 429;
        throw new TtsError('tts_failed', `Youdao TTS answered HTTP ${response.status}`, { retryable });
      }
      const contentType = response.headers.get('content-type') ?? '';
      let body: Buffer;
      try {
        body = await readBoundedBody(response, maxAudioBytes, (declared) => audioTooLarge('Youdao TTS', maxAudioBytes, declared));
      } catch (error) {
        throw failure(error);
      }
      if (!contentType.toLowerCase().startsWith('audio/')) throw errorAnswer(body, contentType);
      if (body.length === 0) throw new TtsError('tts_failed', 'Youdao TTS answered no audio', { retryable: true });
      const info = mp3Info(body);
      return info === undefined ? { audio: body, format: 'mp3' } : { audio: body, format: 'mp3', durationMs: info.durationMs };
    } finally {
      options.clock.clearTimeout(timer);
    }

    function failure(error: unknown): unknown {
      if (error instanceof TtsError) return error;
      if (signal?.aborted === true) return signal.reason;
      if (timeout.signal.aborted) {
        return new TtsError('tts_failed', `Youdao TTS did not answer within ${options.timeoutMs} ms`, { retryable: true, cause: error });
      }
      return new TtsError('tts_failed', `Youdao TTS could not be reached: ${describeTransportError(error)}`, { retryable: true, cause: error });
    }
  }

  function errorAnswer(body: Buffer, contentType: string): TtsError {
    let errorCode: unknown;
    try {
      errorCode = (JSON.parse(body.toString('utf8')) as { errorCode?: unknown }).errorCode;
    } catch {
      errorCode = undefined;
    }
    if (typeof errorCode === 'string' || typeof errorCode === 'number') {
      const code = String(errorCode);
      if (code !== '0') return new YoudaoAnswerError(code);
    }
    return new TtsError('tts_failed', `Youdao TTS answered ${contentType || 'no content type'} instead of audio`, { retryable: true });
  }

  return {
    id: 'youdao',
    defaultVoice: options.defaultVoice ?? DEFAULT_YOUDAO_VOICE,
    async synthesize({ text, voice, signal }) {
      if (signal?.aborted === true) throw signal.reason;
      try {
        return await exchange(text, voice, 'utf16', signal);
      } catch (error) {
        const conventionsDiffer = youdaoSignInput(text, 'utf16') !== youdaoSignInput(text, 'codepoint');
        if (error instanceof YoudaoAnswerError && error.errorCode === SIGNATURE_FAILED && conventionsDiffer) {
          return exchange(text, voice, 'codepoint', signal);
        }
        throw error;
      }
    },
  };
}
