/**
 * Polling delivery: a reply read in batches, for clients that cannot read a response body as it arrives
 * (PC and Mac WeChat hand `wx.request` the whole body only at its end).
 *
 * Contract:
 * - `pollReplyEvents` loops `openReplyPoll` from `lastEventId`: each answer's events go to `onEvent` in
 *   order, and a batch that ends without a terminal event polls again after the last id delivered — at
 *   the earliest `minIntervalMs` after the previous poll started, so a reply being written costs a few
 *   requests a second, not a busy loop. The loop ends with the terminal event or the first error, which
 *   reach the handlers exactly as a stream's would (one terminal callback, nothing after it): a broken
 *   poll is a broken connection the session resumes from its last event, like a broken stream.
 * - Every answer counts as life (`onOpen`, then `onHeartbeat` for a batch without events), so a session's
 *   idle watchdog sees a polling reply as alive while the server answers.
 * - `openPolledReply` POSTs the chat request with `"delivery":"poll"`: `202 {messageId, conversationId}`
 *   once the server has committed the turn, then polls from 0 — the `start` event is the first one read.
 *   An error answer reaches `onError` like a refused stream's (same codes, from the body or the status).
 *   With `retryInProgressMs`, a `409 reply_in_progress` is asked again after that long (or `Retry-After`),
 *   up to `retryInProgressFor` in total: for a repeat of a request the server is still admitting (the
 *   switch to polling after a stream that showed nothing), not for a first send.
 * - `stop()` ends everything at once: the open request is aborted, no timer is left, nothing is called.
 */
import { WxstreamError, isTerminalEvent, type ChatAcceptedResponse, type ChatRequest, type ReplyEvent } from '@wxstream/protocol';
import type { Clock, Scheduler } from './typewriter.ts';
import { Utf8StreamDecoder } from './utf8-stream-decoder.ts';
import {
  errorFromResponse,
  openReplyPoll,
  type ReplyStreamHandle,
  type ReplyStreamHandlers,
  type WxRequestLike,
  type WxRequestOptionsLike,
} from './wx-request-transport.ts';

/** Least time between the starts of two polls of one reply. */
export const DEFAULT_POLL_INTERVAL_MS = 400;

export interface PollReplyEventsOptions {
  request: WxRequestLike;
  token?: string;
  /** The reply's events route as a full URL. */
  url: string;
  lastEventId: number;
  handlers: ReplyStreamHandlers;
  clock: Clock;
  scheduler: Scheduler;
  minIntervalMs?: number;
  /** `wx.request`'s own limit for one poll; WeChat's default applies when left out. */
  timeoutMs?: number;
}

export function pollReplyEvents(options: PollReplyEventsOptions): ReplyStreamHandle {
  const poller = new ReplyPoller(options);
  poller.poll();
  return { stop: () => poller.stop() };
}

class ReplyPoller {
  private readonly options: PollReplyEventsOptions;
  private readonly minIntervalMs: number;
  /*
   * `lastEventId` — the id of the last event handed on; the next poll asks for what follows it.
   * `current` — the poll in flight; `timer` / `timerArmed` — the wait before the next one.
   * `startedAt` — when the last poll started (the interval counts from it).
   * `ended` — a terminal event or an error was handed on, or `stop()` ran.
   */
  private lastEventId: number;
  private current: ReplyStreamHandle | undefined;
  private timer: unknown;
  private timerArmed = false;
  private startedAt = Number.NEGATIVE_INFINITY;
  private ended = false;

  constructor(options: PollReplyEventsOptions) {
    this.options = options;
    this.lastEventId = Math.max(0, Math.floor(options.lastEventId));
    const interval = options.minIntervalMs;
    this.minIntervalMs = interval !== undefined && interval >= 0 ? interval : DEFAULT_POLL_INTERVAL_MS;
  }

  poll(): void {
    if (this.ended) return;
    const { options } = this;
    const { handlers } = options;
    this.startedAt = options.clock.now();
    let delivered = false;
    this.current = openReplyPoll({
      request: options.request,
      token: options.token,
      url: options.url,
      lastEventId: this.lastEventId,
      timeoutMs: options.timeoutMs,
      handlers: {
        onOpen: () => {
          if (!this.ended) handlers.onOpen?.();
        },
        onEvent: (event: ReplyEvent) => {
          if (this.ended) return;
          delivered = true;
          if (event.id > this.lastEventId) this.lastEventId = event.id;
          if (isTerminalEvent(event)) this.finish();
          handlers.onEvent(event);
        },
        onError: (error: WxstreamError) => {
          if (this.ended) return;
          this.finish();
          handlers.onError(error);
        },
      },
      onBatchEnd: () => {
        if (this.ended) return;
        this.current = undefined;
        if (!delivered) handlers.onHeartbeat?.();
        if (this.ended) return;
        this.schedule();
      },
    });
  }

  stop(): void {
    if (this.ended) return;
    this.finish();
  }

  private schedule(): void {
    const wait = Math.max(0, this.startedAt + this.minIntervalMs - this.options.clock.now());
    this.timerArmed = true;
    this.timer = this.options.scheduler.setTimeout(() => {
      this.timerArmed = false;
      this.timer = undefined;
      this.poll();
    }, wait);
  }

  private finish(): void {
    this.ended = true;
    if (this.timerArmed) {
      this.timerArmed = false;
      this.options.scheduler.clearTimeout(this.timer);
      this.timer = undefined;
    }
    const current = this.current;
    this.current = undefined;
    current?.stop();
  }
}

export interface OpenPolledReplyOptions extends Omit<PollReplyEventsOptions, 'url' | 'lastEventId'> {
  /** The chat route's full URL. */
  url: string;
  /** The events route of a reply as a full URL. */
  eventsUrl: (messageId: string) => string;
  body: ChatRequest;
  /** Called with the reply's id once the server accepted the request (before any event is read). */
  onAccepted?: (accepted: ChatAcceptedResponse) => void;
  /** Ask again after a `409 reply_in_progress` this long later (or after its `Retry-After`); off when absent. */
  retryInProgressMs?: number;
  /** Give up asking again after this long in total. Default 60,000. */
  retryInProgressFor?: number;
}

export function openPolledReply(options: OpenPolledReplyOptions): ReplyStreamHandle {
  const reply = new PolledReply(options);
  reply.post();
  return { stop: () => reply.stop() };
}

class PolledReply {
  private readonly options: OpenPolledReplyOptions;
  private readonly firstAt: number;
  private task: { abort(): void } | undefined;
  private poller: ReplyStreamHandle | undefined;
  private timer: unknown;
  private timerArmed = false;
  private ended = false;

  constructor(options: OpenPolledReplyOptions) {
    this.options = options;
    this.firstAt = options.clock.now();
  }

  post(): void {
    if (this.ended) return;
    const { options } = this;
    const header: Record<string, string> = { 'Content-Type': 'application/json', Accept: 'application/json' };
    if (options.token !== undefined && options.token !== '') header.Authorization = `Bearer ${options.token}`;
    const request: WxRequestOptionsLike = {
      url: options.url,
      method: 'POST',
      header,
      data: JSON.stringify({ ...options.body, delivery: 'poll' }),
      enableChunked: false,
      responseType: 'arraybuffer',
      dataType: 'text',
      success: (result) => {
        this.task = undefined;
        if (this.ended) return;
        if (result.statusCode === 202 || result.statusCode === 200) {
          const accepted = acceptedFrom(result.data);
          if (accepted === undefined) {
            this.fail(new WxstreamError('bad_response', `POST ${options.url} answered ${result.statusCode} without a messageId`));
            return;
          }
          options.onAccepted?.(accepted);
          if (this.ended) return;
          this.startPolling(accepted.messageId);
          return;
        }
        const error = errorFromResponse(result.statusCode, result.data, result.header);
        if (error.code === 'reply_in_progress' && this.mayAskAgain()) {
          this.askAgain(error.retryAfterSeconds);
          return;
        }
        this.fail(error);
      },
      fail: (error) => {
        this.task = undefined;
        if (this.ended) return;
        this.fail(new WxstreamError('network_error', `the request failed: ${error.errMsg}`));
      },
    };
    if (options.timeoutMs !== undefined) request.timeout = options.timeoutMs;
    try {
      this.task = options.request(request);
    } catch (cause) {
      this.fail(new WxstreamError('network_error', `wx.request threw: ${String(cause)}`, { cause }));
    }
  }

  stop(): void {
    if (this.ended) return;
    this.ended = true;
    this.release();
  }

  private startPolling(messageId: string): void {
    const { options } = this;
    this.poller = pollReplyEvents({
      request: options.request,
      token: options.token,
      url: options.eventsUrl(messageId),
      lastEventId: 0,
      handlers: {
        onOpen: () => {
          if (!this.ended) options.handlers.onOpen?.();
        },
        onHeartbeat: () => {
          if (!this.ended) options.handlers.onHeartbeat?.();
        },
        onEvent: (event) => {
          if (this.ended) return;
          if (isTerminalEvent(event)) this.ended = true;
          options.handlers.onEvent(event);
        },
        onError: (error) => {
          if (this.ended) return;
          this.ended = true;
          options.handlers.onError(error);
        },
      },
      clock: options.clock,
      scheduler: options.scheduler,
      minIntervalMs: options.minIntervalMs,
      timeoutMs: options.timeoutMs,
    });
  }

  private mayAskAgain(): boolean {
    const { retryInProgressMs, retryInProgressFor } = this.options;
    if (retryInProgressMs === undefined) return false;
    return this.options.clock.now() - this.firstAt < (retryInProgressFor ?? 60_000);
  }

  private askAgain(retryAfterSeconds: number | undefined): void {
    const wait = retryAfterSeconds !== undefined ? retryAfterSeconds * 1000 : (this.options.retryInProgressMs ?? 0);
    // The session's watchdog must not take the wait for a dead connection.
    this.options.handlers.onHeartbeat?.();
    this.timerArmed = true;
    this.timer = this.options.scheduler.setTimeout(() => {
      this.timerArmed = false;
      this.timer = undefined;
      this.post();
    }, wait);
  }

  private fail(error: WxstreamError): void {
    if (this.ended) return;
    this.ended = true;
    this.release();
    this.options.handlers.onError(error);
  }

  private release(): void {
    if (this.timerArmed) {
      this.timerArmed = false;
      this.options.scheduler.clearTimeout(this.timer);
      this.timer = undefined;
    }
    const task = this.task;
    this.task = undefined;
    task?.abort();
    const poller = this.poller;
    this.poller = undefined;
    poller?.stop();
  }
}

function acceptedFrom(data: unknown): ChatAcceptedResponse | undefined {
  let value: unknown = data;
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) {
    value = new Utf8StreamDecoder().decode(data);
  }
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { messageId, conversationId } = value as Record<string, unknown>;
  if (typeof messageId !== 'string' || messageId === '' || typeof conversationId !== 'string') return undefined;
  return { messageId, conversationId };
}
