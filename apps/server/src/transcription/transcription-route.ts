/**
 * `POST /api/transcriptions` (speech to text) and `GET /api/transcriptions` (what voice input can
 * do here), behind `requireAuth`.
 *
 * The POST, as named steps, each failure a JSON error and nothing kept:
 *   1. admit — voice input must be available (503 `stt_unavailable`), then the user's rate
 *      (429 `rate_limited`) and daily audio seconds (429 `quota_exceeded`), both with
 *      `Retry-After` — all before a byte of the body is read;
 *   2. receive — the multipart upload, bounded (`audio-upload.ts`: 415/400/413/`audio_required`);
 *   3. inspect — the bytes must be MP3, AAC, M4A or WAV (415 `audio_unsupported`), whole (400
 *      `audio_corrupt`), no longer than the limit (413 `audio_too_long`), and in a format the
 *      provider takes (415 `audio_unsupported`);
 *   4. transcribe — with the provider; the call is abandoned (processes killed, request cancelled)
 *      when the client goes away;
 *   5. conclude — the recording's whole seconds are counted against the user's day once the
 *      provider has heard it (also when it heard nothing); an empty transcript is 422 `no_speech`
 *      (a silence is not a message); otherwise `200 {"text","language"?,"durationMs"}`.
 * The audio lives only in this request's memory (and, for the offline provider, its private
 * temporary directory); it is never logged. Only `STT_DEBUG_AUDIO_DIR` keeps a copy. The
 * transcript is not content-checked here: it is checked as any message when it is sent.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Middleware } from 'koa';
import type { Router } from '@koa/router';
import { ROUTES, WxstreamError, type TranscriptionResponse } from '@wxstream/protocol';
import type { AppState } from '../app-state.ts';
import type { Clock } from '../clock.ts';
import { LimitExceededError } from '../limits/limit-exceeded-error.ts';
import { readAudioUpload } from './audio-upload.ts';
import { inspectAudio, type AudioFacts } from './audio-inspection.ts';
import type { TranscriptionService } from './transcription-service.ts';

export interface TranscriptionRouteDeps {
  readonly service: TranscriptionService;
  readonly clock: Clock;
}

function userId(state: AppState): string {
  const user = state.user;
  if (user === undefined) throw new Error('transcription route mounted without requireAuth');
  return user.id;
}

async function admit(service: TranscriptionService, user: string): Promise<void> {
  if (service.unavailableReason !== undefined) throw new WxstreamError('stt_unavailable', `Voice input is unavailable: ${service.unavailableReason}`);
  const rate = await service.rateLimiter.hit(user);
  if (!rate.allowed) throw new LimitExceededError('rate_limited', 'Too many recordings; wait before sending another', { retryAfterMs: rate.retryAfterMs });
  const quota = await service.quota.check(user);
  if (!quota.allowed) {
    throw new LimitExceededError('quota_exceeded', `The daily ${service.config.dailySecondsQuota} seconds of voice input are used up`, { retryAfterMs: quota.retryAfterMs });
  }
}

function inspect(service: TranscriptionService, audio: Buffer): AudioFacts {
  const facts = inspectAudio(audio);
  if (!facts.ok) {
    throw facts.problem === 'not_audio'
      ? new WxstreamError('audio_unsupported', `Not a recording this server takes: ${facts.detail}`)
      : new WxstreamError('audio_corrupt', `The recording cannot be read: ${facts.detail}`);
  }
  const { maxDurationMs } = service.config;
  if (facts.durationMs > maxDurationMs) {
    throw new WxstreamError('audio_too_long', `The recording lasts ${(facts.durationMs / 1000).toFixed(1)} s; at most ${maxDurationMs / 1000} s are accepted`);
  }
  const formats = service.transcriber?.formats ?? [];
  if (!formats.includes(facts.format)) {
    throw new WxstreamError('audio_unsupported', `${facts.format} recordings are not taken here; send ${formats.join(', ')}`);
  }
  return facts;
}

export function transcriptionRoute(deps: TranscriptionRouteDeps): Middleware<AppState> {
  const { service, clock } = deps;
  return async (ctx) => {
    const user = userId(ctx.state);
    await admit(service, user);
    const upload = await readAudioUpload(ctx.req, { maxBytes: service.config.maxBytes });
    const facts = inspect(service, upload.audio);
    const transcriber = service.transcriber;
    if (transcriber === undefined) throw new WxstreamError('stt_unavailable', 'Voice input is off');

    const debugDir = service.config.debugAudioDir;
    if (debugDir !== undefined) await writeFile(join(debugDir, `${ctx.state.requestId}.${facts.format}`), upload.audio, { mode: 0o600 });

    // A client that leaves stops the work done for it.
    const left = new AbortController();
    const onClose = () => {
      if (!ctx.res.writableFinished) left.abort(new WxstreamError('invalid_request', 'The client went away'));
    };
    ctx.res.once('close', onClose);
    const startedAt = clock.now();
    let text: string;
    let language: string | undefined;
    try {
      ({ text, language } = await transcriber.transcribe({
        audio: upload.audio,
        format: facts.format,
        sampleRate: facts.sampleRate,
        durationMs: facts.durationMs,
        language: upload.language,
        signal: left.signal,
      }));
    } finally {
      ctx.res.off('close', onClose);
    }
    await service.quota.record(user, Math.ceil(facts.durationMs / 1000));
    ctx.state.log.info(
      { provider: transcriber.id, format: facts.format, durationMs: facts.durationMs, transcribeMs: clock.now() - startedAt, chars: text.length },
      'recording transcribed',
    );
    if (text.trim() === '') throw new WxstreamError('no_speech', 'No speech was heard in the recording');
    const body: TranscriptionResponse = { text: text.trim(), durationMs: facts.durationMs, ...(language === undefined ? {} : { language }) };
    ctx.set('Cache-Control', 'no-store');
    ctx.body = body;
  };
}

export function mountTranscriptionRoutes(router: Router<AppState>, authenticated: Middleware<AppState>, deps: TranscriptionRouteDeps): void {
  router.post(ROUTES.transcriptions, authenticated, transcriptionRoute(deps));
  router.get(ROUTES.transcriptions, authenticated, (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = deps.service.capabilities();
  });
}
