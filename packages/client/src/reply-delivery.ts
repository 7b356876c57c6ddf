/**
 * Choosing how a reply reaches this client: streamed (chunks as they arrive) or polled (whole batches).
 *
 * Contract:
 * - `platformPolls(platform)`: the WeChat clients known to deliver no chunks — Windows and Mac WeChat hand
 *   `wx.request` the whole body only in `success` — poll from the first message on.
 * - `openAdaptiveReply` is for every other client: it opens the stream, and if neither a header nor a byte
 *   of it has arrived after `fallbackAfterMs` (the server sends its `start` event with its headers, so a
 *   client that can stream hears something as soon as the reply is committed), it switches this reply to
 *   polling — without a second turn: the same chat request (same `requestId`) is sent again with
 *   `"delivery":"poll"`, which the server answers with the reply the first request started (202), or with
 *   `409 reply_in_progress` while that one is still being admitted (asked again until it is committed).
 *   The first request is abandoned, not aborted, so the server does not take the switch for a client that
 *   left. A client on a slow model is switched too; that costs nothing but a few polls.
 * - Without a `requestId` the stream is all there is (a repeat could start a second turn).
 * - `onPolling(messageId)` says which replies are polled, so their resumes poll too.
 * - Handlers see one reply either way: the same events, one terminal callback; `stop()` stops whichever
 *   is open and clears the switch timer.
 */
import type { ChatRequest } from '@wxstream/protocol';
import type { Scheduler } from './typewriter.ts';
import type { ReplyStreamHandle, ReplyStreamHandlers } from './wx-request-transport.ts';

/** The `platform` values (`wx.getDeviceInfo()`, `wx.getSystemInfoSync()`) whose `wx.request` delivers no chunks. */
export const POLLING_PLATFORMS: readonly string[] = ['windows', 'mac'];

export function platformPolls(platform: string | undefined): boolean {
  return platform !== undefined && POLLING_PLATFORMS.includes(platform.trim().toLowerCase());
}

/** How long a stream may stay silent (no header, no byte) before the reply is polled instead. */
export const DEFAULT_STREAM_FALLBACK_MS = 5_000;

export interface AdaptiveReplyOptions {
  /** The chunked chat request. */
  openStream: (body: ChatRequest, handlers: ReplyStreamHandlers) => ReplyStreamHandle;
  /** The chat request in polling delivery (`openPolledReply`), asking again while the server answers 409. */
  openPolled: (body: ChatRequest, handlers: ReplyStreamHandlers, onAccepted: (messageId: string) => void) => ReplyStreamHandle;
  scheduler: Scheduler;
  fallbackAfterMs?: number;
  /** This reply is polled from now on (its `messageId` once known). */
  onPolling?: (messageId: string) => void;
}

export function openAdaptiveReply(options: AdaptiveReplyOptions, body: ChatRequest, handlers: ReplyStreamHandlers): ReplyStreamHandle {
  if (body.requestId === undefined) return options.openStream(body, handlers);
  let stopped = false;
  let heard = false;
  let polled: ReplyStreamHandle | undefined;
  let timer: unknown;
  let timerArmed = false;
  const hear = (): void => {
    if (heard) return;
    heard = true;
    if (timerArmed) {
      timerArmed = false;
      options.scheduler.clearTimeout(timer);
    }
  };
  const stream = options.openStream(body, {
    onOpen: () => {
      if (stopped || polled !== undefined) return;
      hear();
      handlers.onOpen?.();
    },
    onHeartbeat: () => {
      if (stopped || polled !== undefined) return;
      hear();
      handlers.onHeartbeat?.();
    },
    onEvent: (event) => {
      if (stopped || polled !== undefined) return;
      hear();
      handlers.onEvent(event);
    },
    onError: (error) => {
      if (stopped || polled !== undefined) return;
      hear();
      stopped = true;
      if (timerArmed) {
        timerArmed = false;
        options.scheduler.clearTimeout(timer);
      }
      handlers.onError(error);
    },
  });
  if (!heard && !stopped) {
    timerArmed = true;
    timer = options.scheduler.setTimeout(() => {
      timerArmed = false;
      if (stopped || heard) return;
      // Leave the first request running: aborting it could cancel the very turn we are about to poll.
      if (stream.abandon !== undefined) stream.abandon();
      else stream.stop();
      polled = options.openPolled(body, handlers, (messageId) => options.onPolling?.(messageId));
    }, options.fallbackAfterMs ?? DEFAULT_STREAM_FALLBACK_MS);
  }
  return {
    stop() {
      if (stopped) return;
      stopped = true;
      if (timerArmed) {
        timerArmed = false;
        options.scheduler.clearTimeout(timer);
      }
      if (polled !== undefined) polled.stop();
      else stream.stop();
    },
  };
}
