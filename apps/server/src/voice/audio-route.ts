/**
 * `GET /api/audio/:id?exp=…&sig=…`: serves one stored audio segment to the mini-program's player.
 *
 * Contract: a bad or missing signature is 403 `audio_link_invalid` (checked before the store, so
 * a forged link cannot probe which ids exist); an expired link, or audio the store no longer has
 * (or never had), is 404 `not_found`. Otherwise 200 with the audio, or 206 with `Content-Range`
 * for one satisfiable `Range`, or 416 for an unsatisfiable one, whose `Content-Range` is `bytes *`
 * followed by `/` and the size (see byte-range.ts). Every audio answer has the format's
 * `Content-Type`, `Content-Length`, `Accept-Ranges: bytes` and a private cache lifetime up to the
 * audio's expiry (the URL names immutable bytes, so a replay need not refetch). Error bodies have
 * the JSON shape of every other error (`{"error":{"code","message","retryable"}}`). HEAD gets the
 * same headers without a body (Koa drops it).
 */
import type { RouterMiddleware } from '@koa/router';
import { ERROR_CODES } from '@wxstream/protocol';
import type { AudioSource } from './audio-store.ts';
import { byteRange } from './byte-range.ts';
import type { AudioUrlSigner } from './signed-audio-url.ts';
import type { VoiceErrorCode } from './voice-errors.ts';

type AudioRouteErrorCode = VoiceErrorCode | 'not_found';

function firstValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

export function audioRoute(store: AudioSource, signer: AudioUrlSigner): RouterMiddleware {
  return async (ctx) => {
    const answerError = (code: AudioRouteErrorCode, message: string) => {
      const spec = ERROR_CODES[code];
      ctx.status = spec.status;
      ctx.set('Cache-Control', 'no-store');
      ctx.body = { error: { code, message, retryable: spec.retryable } };
    };

    const id = ctx.params.id ?? '';
    const check = signer.verify(id, firstValue(ctx.query.exp), firstValue(ctx.query.sig));
    if (check === 'invalid') return answerError('audio_link_invalid', 'Audio link signature is invalid');
    if (check === 'expired') return answerError('not_found', 'Audio link has expired');
    const stored = await store.get(id);
    if (stored === undefined) return answerError('not_found', 'Audio is no longer available');

    const size = stored.audio.length;
    const range = byteRange(ctx.get('Range') || undefined, size);
    if (range.kind === 'unsatisfiable') {
      ctx.set('Content-Range', `bytes */${size}`);
      return answerError('audio_range_not_satisfiable', `Range outside the ${size} bytes of audio`);
    }
    const maxAge = Math.floor(store.remainingMs(stored) / 1000);
    ctx.set('Accept-Ranges', 'bytes');
    ctx.set('Cache-Control', `private, max-age=${maxAge}, immutable`);
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.type = stored.contentType;
    if (range.kind === 'partial') {
      ctx.status = 206;
      ctx.set('Content-Range', `bytes ${range.start}-${range.end}/${size}`);
      ctx.body = stored.audio.subarray(range.start, range.end + 1);
    } else {
      ctx.status = 200;
      ctx.body = stored.audio;
    }
    return undefined;
  };
}
