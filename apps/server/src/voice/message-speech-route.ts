/**
 * `POST /api/messages/:messageId/speech`: speaks a stored reply — one reopened from the history, or one
 * whose audio links have expired — as a stream of `audio` events and one `done`.
 *
 * Contract: only the caller's own assistant messages (another user's, a user message, an unknown id →
 * 404 `not_found`); a reply the content check blocked has no text to speak (404 too). Voice off or not
 * able to work here → 503 `tts_unavailable`. Otherwise 200 with the stream headers of a reply: the stored
 * answer text (never its reasoning) goes through the same `VoiceService` as a live voice reply — the same
 * segmenting, providers, cache, signed short-lived URLs and `audio` event shapes — as events with ids
 * 1, 2, 3 …, heartbeats while a synthesis takes long, and `done {"finishReason":"stop"}` after the last
 * segment (at most `VOICE_FINISH_TIMEOUT_MS` after the start: a hung provider cannot hold it open). A body
 * `{"voiceName"}` picks the provider's voice — one it offers, else 400 `invalid_voice` (`offered-voices.ts`). A client that leaves cancels the syntheses in flight.
 */
import { PassThrough } from 'node:stream';
import type { Middleware } from 'koa';
import {
  PROTOCOL_HEADER,
  PROTOCOL_VERSION,
  SSE_HEARTBEAT,
  STREAM_HEADERS,
  WxstreamError,
  formatSseEvent,
  type ReplyEvent,
} from '@wxstream/protocol';
import type { AppState } from '../app-state.ts';
import { audioEventData } from '../chat/reply-voice.ts';
import type { Clock, TimerHandle } from '../clock.ts';
import { readJsonBody } from '../http/json-body.ts';
import type { ConversationStore } from '../storage/conversation-store.ts';
import { VOICE_NAME_PATTERN } from './offered-voices.ts';
import { assertVoiceOffered, type VoiceService } from './voice-service.ts';

export interface MessageSpeechDeps {
  store: ConversationStore;
  voice: VoiceService | undefined;
  clock: Clock;
  heartbeatIntervalMs: number;
  maxBodyBytes: number;
}

export function messageSpeechRoute(deps: MessageSpeechDeps): Middleware<AppState> {
  return async (ctx) => {
    const user = ctx.state.user;
    if (user === undefined) throw new Error('the speech route must run behind requireAuth');
    const voiceName = await requestedVoice(ctx.req, ctx.get('Content-Type'), ctx.request.length, deps.maxBodyBytes);
    const message = await deps.store.getMessage(user.id, ctx.params.messageId ?? '');
    if (message === undefined || message.role !== 'assistant' || message.status === 'blocked') {
      throw new WxstreamError('not_found', 'No such reply of yours to speak');
    }
    const voice = deps.voice;
    if (voice === undefined || voice.unavailableReason !== undefined) {
      throw new WxstreamError('tts_unavailable', voice?.unavailableReason ?? 'Voice is off on this server');
    }
    assertVoiceOffered(voice, voiceName);
    const log = ctx.state.log;
    const leaving = new AbortController();
    const spoken = voice.open({ voiceName, signal: leaving.signal, log });
    spoken.push(message.text);
    spoken.end();

    ctx.req.socket.setNoDelay(true);
    ctx.status = 200;
    ctx.set(STREAM_HEADERS);
    ctx.set(PROTOCOL_HEADER, String(PROTOCOL_VERSION));
    const body = new PassThrough();
    ctx.body = body;
    const leave = () => {
      leaving.abort();
      spoken.stop();
    };
    body.once('close', leave);
    ctx.res.once('close', leave);

    let nextId = 1;
    let lastWrite = deps.clock.now();
    const write = (event: ReplyEvent) => {
      if (body.destroyed || body.writableEnded) return;
      body.write(formatSseEvent(event));
      lastWrite = deps.clock.now();
    };
    let heartbeat: TimerHandle | undefined;
    const beat = () => {
      if (body.destroyed || body.writableEnded) return;
      if (deps.clock.now() - lastWrite >= deps.heartbeatIntervalMs) {
        body.write(SSE_HEARTBEAT);
        lastWrite = deps.clock.now();
      }
      heartbeat = deps.clock.setTimeout(beat, Math.max(1, deps.heartbeatIntervalMs - (deps.clock.now() - lastWrite)));
    };
    heartbeat = deps.clock.setTimeout(beat, deps.heartbeatIntervalMs);
    // The whole reply waits at most as long as a live reply waits for its last segments.
    const deadline = deps.clock.setTimeout(() => spoken.stop(), voice.finishTimeoutMs);

    void (async () => {
      let segments = 0;
      try {
        for await (const segment of spoken) {
          write({ id: nextId++, type: 'audio', data: audioEventData(segment) });
          segments += 1;
        }
        write({ id: nextId++, type: 'done', data: { finishReason: 'stop' } });
        log.info({ messageId: message.id, segments }, 'stored reply spoken');
      } catch (error) {
        log.warn({ err: error, messageId: message.id }, 'speaking a stored reply failed');
        write({ id: nextId++, type: 'error', data: new WxstreamError('tts_failed', 'The reply could not be spoken').toWire() });
      } finally {
        if (heartbeat !== undefined) deps.clock.clearTimeout(heartbeat);
        deps.clock.clearTimeout(deadline);
        body.off('close', leave);
        ctx.res.off('close', leave);
        if (!body.destroyed && !body.writableEnded) body.end();
      }
    })();
  };
}

/** The optional `{"voiceName"}` body; an empty body asks for the server's default voice. */
async function requestedVoice(
  req: Parameters<typeof readJsonBody>[0],
  contentType: string,
  length: number | undefined,
  maxBytes: number,
): Promise<string | undefined> {
  if (length === 0 || (length === undefined && contentType === '')) return undefined;
  const body = await readJsonBody(req, { maxBytes });
  const voiceName = typeof body === 'object' && body !== null ? (body as { voiceName?: unknown }).voiceName : undefined;
  if (voiceName === undefined) return undefined;
  if (typeof voiceName !== 'string') throw new WxstreamError('invalid_request', 'voiceName must be a string');
  if (!VOICE_NAME_PATTERN.test(voiceName)) {
    throw new WxstreamError('invalid_voice', 'voiceName must be 1-64 characters of A-Z, a-z, 0-9, _, . or -, starting with a letter or digit');
  }
  return voiceName;
}
