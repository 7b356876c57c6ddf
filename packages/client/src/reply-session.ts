/**
 * One reply, from request to settled view: the controller a mini-program page drives.
 *
 * Contract:
 * - Wiring: transport events → `reduceReply` → one typewriter for the text and one for the reasoning.
 *   The page only sees `onRender(patch)`: at most one call per frame interval, text, reasoning, status
 *   and metadata coalesced into that one patch, holding only the fields that changed since the last
 *   call — so each call maps to one small `setData`. Renders are always deferred through the scheduler
 *   (a 0 ms timer at most), never made inside a transport callback, so a burst of events in one chunk
 *   yields one render.
 * - End: a `done`/`error` event, a transport error, `stop()` or the idle watchdog ends the reply. The
 *   typewriters are dropped and the next render shows the whole received text with the final status
 *   (and for errors `errorCode`, the Chinese `errorMessage` from `userMessageFor`, `retryable`),
 *   keeping any partial text. `stop()` also aborts the transport; whatever arrives later is ignored.
 * - `onStateChange(state, previous)` runs after each event that changed the state, unpaced and also while
 *   hidden (audio segments and `start`'s voice flag reach the page through it, not through renders).
 * - `onSettled(state)` runs exactly once, right after the final render — or at the end itself while the
 *   page is hidden, since the catch-up render will show it.
 * - Hidden (`setVisible(false)`): no `onRender` at all and no render or typewriter timers. Visible
 *   again: one catch-up render with everything that changed.
 * - Idle watchdog: once a connection has started to answer (its headers or first byte: `onOpen`, or any
 *   event or heartbeat), no event and no heartbeat for `idleTimeoutMs` count as a broken connection
 *   (`stream_interrupted`; a stalled connection would otherwise hang forever). Never before that: a
 *   platform that hands over nothing until the end is handled by polling delivery, not by a timeout that
 *   would give up a reply the server goes on generating.
 * - Resuming (with `resume` options): when the connection breaks mid-reply — `stream_interrupted`,
 *   `network_error`, a retryable bare `http_error`, `server_shutdown`, the idle watchdog, a request
 *   WeChat cut at its time limit — and the reply's `messageId` is known, the session waits a jittered
 *   backoff and opens the reply's events route after `state.lastEventId`. The reducer drops any event
 *   it already has, so the text is neither repeated nor skipped, and the typewriters never stop: the
 *   page sees one reply typing on. The status stays `streaming` meanwhile. Each attempt that brings a
 *   new event resets the budget; `maxAttempts` failures in a row end the reply with the last error. A
 *   404 from the events route (expired, unknown) ends it with `not_found`, keeping the partial text.
 *   `resume()` (app shown again, network back) reconnects at once instead of waiting for the backoff.
 * - Reopening: a reply that ended because those attempts ran out is `reopenable` — the server most
 *   likely still has it (it keeps generating for a client that left, and refuses a second reply while
 *   it does). `reopen(state)` on a new session continues it from `state.lastEventId` through the events
 *   route: the text received so far is on screen at once (not typed again), new text types on, and the
 *   usual resume rules apply. If the events route answers 404 before any new event (the reply expired),
 *   `onGone` runs instead of that ending: the session goes inert without rendering, so the caller can
 *   send the message again into the same bubble.
 * - Stop: `stop()` aborts the local request and tells the server, so it stops the model (it keeps
 *   generating for a client that merely disconnected): by the request's `requestId` through `stopRequest`
 *   at once, whether or not the reply has started; without one, by `stopReply(messageId)`. Pressed before
 *   the `start` event named the reply, the request stays open, silently, until it does (or the connection
 *   ends or the idle time passes) — so the server ends the reply `stopped` instead of dropping a turn
 *   mid-admission — and, without a `requestId`, the server is told then.
 * - After `dispose()`: no callbacks, no timers, the transport is stopped (the server is not told to
 *   stop: leaving the page is not pressing stop, and the reply is stored when it ends).
 */
import { DEFAULT_HEARTBEAT_MS, WxstreamError, userMessageFor, type ChatRequest, type ReplyEvent } from '@wxstream/protocol';
import {
  failReply,
  initialReplyState,
  isTerminalStatus,
  reduceReply,
  stopReply,
  type ReplyState,
  type ReplyStatus,
} from './reply-reducer.ts';
import { backoffDelay, DEFAULT_RESUME_BACKOFF } from './resume-backoff.ts';
import { DEFAULT_FRAME_INTERVAL_MS, Typewriter, type Clock, type Scheduler, type TypewriterOptions } from './typewriter.ts';
import type { ReplyStreamHandlers } from './wx-request-transport.ts';

export interface ReplyView {
  text: string;
  reasoning: string;
  status: ReplyStatus;
  errorCode?: string;
  /** What the user reads (Chinese), from `userMessageFor(errorCode)`. */
  errorMessage?: string;
  retryable?: boolean;
  finishReason?: string;
  conversationId?: string;
  messageId?: string;
}

export type ReplyViewPatch = Partial<ReplyView>;

type StreamOpener = (handlers: ReplyStreamHandlers) => { stop(): void };

export interface ReplyResumeOptions {
  /** Opens the reply's events route, replaying every event after `lastEventId` and following it live. */
  open: (messageId: string, lastEventId: number, handlers: ReplyStreamHandlers) => { stop(): void };
  /** Uniform in [0, 1): the backoff's jitter. */
  random: () => number;
  /** Failed attempts in a row before the reply ends with the error. Default 6. */
  maxAttempts?: number;
  /** First backoff ceiling; it doubles per attempt. Default 500. */
  baseDelayMs?: number;
  /** Backoff ceiling cap. Default 8,000. */
  maxDelayMs?: number;
  /**
   * `resume()` replaces an open connection that has carried nothing for this long (a phone coming back
   * from the background often holds a socket that died silently). Default: one heartbeat interval plus
   * 5 s, since a live stream carries at least a heartbeat that often.
   */
  staleAfterMs?: number;
}

export interface ReplySessionOptions {
  openStream: (body: ChatRequest, handlers: ReplyStreamHandlers) => { stop(): void };
  clock: Clock;
  scheduler: Scheduler;
  /** Only the fields that changed since the last call; at most one call per frame interval. */
  onRender: (patch: ReplyViewPatch) => void;
  /** Once, when the reply has ended and its final state has been rendered. */
  onSettled?: (state: ReplyState) => void;
  /**
   * After every event that changed the reply state, at once (inside the transport callback, not paced
   * by frames): for what must not wait for a render, like starting the audio of a segment that arrived.
   * Not a way to the screen — the view goes through `onRender`.
   */
  onStateChange?: (state: ReplyState, previous: ReplyState) => void;
  typewriter?: Partial<Pick<TypewriterOptions, 'frameIntervalMs' | 'charsPerSecond' | 'maxLagMs'>>;
  /** Fail when neither an event nor a heartbeat arrives for this long. Default 3 heartbeats; 0 turns it off. */
  idleTimeoutMs?: number;
  /** Continue a reply whose connection broke. Without it a broken connection ends the reply. */
  resume?: ReplyResumeOptions;
  /** Tells the server to stop generating (fire and forget: the page owns errors and retries of this call). */
  stopReply?: (messageId: string) => void;
  /**
   * Tells the server to stop the reply a request started, by the request's `requestId` — which works before
   * the `start` event named the reply. Used instead of `stopReply` when the request carries a `requestId`.
   */
  stopRequest?: (requestId: string) => void;
}

export const DEFAULT_RESUME_ATTEMPTS = 6;

/** Shown when a broken reply can no longer be continued: the server no longer has it. */
export const RESUME_EXPIRED_MESSAGE = '连接中断太久，这条回复已无法继续接收；已收到的内容已保留。';

/** Client-side failures of a connection, after which the same reply can be picked up again. */
function isConnectionFailure(error: WxstreamError): boolean {
  switch (error.code) {
    case 'stream_interrupted':
    case 'network_error':
    case 'server_shutdown':
      return true;
    case 'http_error':
      return error.retryable;
    default:
      return false;
  }
}

export const DEFAULT_IDLE_TIMEOUT_MS = 3 * DEFAULT_HEARTBEAT_MS;

const VIEW_KEYS = [
  'text',
  'reasoning',
  'status',
  'errorCode',
  'errorMessage',
  'retryable',
  'finishReason',
  'conversationId',
  'messageId',
] as const satisfies readonly (keyof ReplyView)[];

export class ReplySession {
  private readonly options: ReplySessionOptions;
  private readonly clock: Clock;
  private readonly scheduler: Scheduler;
  private readonly frameIntervalMs: number;
  private readonly idleTimeoutMs: number;
  private readonly maxResumeAttempts: number;
  private readonly staleAfterMs: number;
  private readonly textWriter: Typewriter;
  private readonly reasoningWriter: Typewriter;

  /*
   * `reply` — the reduced reply state; the single source of truth for what was received.
   * `stream` — the open transport; undefined before start and once the reply has ended.
   * `rendered` — the full view as of the last `onRender` (undefined before the first), to diff against.
   * `lastRenderAt` — when `onRender` last ran; the render budget counts from it.
   * `renderTimer` / `renderArmed` — the one pending render.
   * `lastActivityAt` / `idleTimer` / `idleArmed` — the watchdog: time of the last event or heartbeat,
   *   and the one pending check (re-armed for the remainder rather than reset on every event).
   * `visible`, `started`, `settled`, `disposed` — lifecycle flags.
   * `generation` — bumped whenever a connection is given up; callbacks of an older one are ignored.
   * `resumeAttempts` — attempts to continue since the last one that brought a new event.
   * `retryTimer` / `retryArmed` — the one pending attempt to continue (during its backoff).
   * `resuming` — the open connection is the events route, not the chat POST (a 404 then means expired).
   * `expired` — the reply ended because the server no longer had it.
   * `gaveUp` — the reply ended because the attempts to continue it ran out (so it may be reopened).
   * `onGone` — set by `reopen` until the first new event: what to do instead of ending on a 404.
   * `stopPending` — stop was pressed before the reply had an id: the request stays open to learn it.
   * `requestId` — the chat request's id, by which the server can be told to stop before `start`.
   * `opened` — the current connection has answered (headers, a byte, an event): the watchdog runs.
   */
  private reply: ReplyState = initialReplyState();
  private stream: { stop(): void } | undefined;
  private rendered: ReplyView | undefined;
  private lastRenderAt = Number.NEGATIVE_INFINITY;
  private renderTimer: unknown;
  private renderArmed = false;
  private lastActivityAt = 0;
  private idleTimer: unknown;
  private idleArmed = false;
  private visible = true;
  private started = false;
  private settled = false;
  private disposed = false;
  private generation = 0;
  private resumeAttempts = 0;
  private retryTimer: unknown;
  private retryArmed = false;
  private resuming = false;
  private expired = false;
  private gaveUp = false;
  private onGone: (() => void) | undefined;
  private stopPending = false;
  private requestId: string | undefined;
  private opened = false;

  constructor(options: ReplySessionOptions) {
    this.options = options;
    this.clock = options.clock;
    this.scheduler = options.scheduler;
    const interval = options.typewriter?.frameIntervalMs;
    // The same budget as the typewriters (which fall back to the default the same way).
    this.frameIntervalMs = interval !== undefined && Number.isFinite(interval) && interval > 0 ? interval : DEFAULT_FRAME_INTERVAL_MS;
    this.idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    this.maxResumeAttempts = options.resume?.maxAttempts ?? DEFAULT_RESUME_ATTEMPTS;
    this.staleAfterMs = options.resume?.staleAfterMs ?? DEFAULT_HEARTBEAT_MS + 5_000;
    const writerOptions = { ...options.typewriter, clock: this.clock, scheduler: this.scheduler, onFrame: () => this.requestRender() };
    this.textWriter = new Typewriter(writerOptions);
    this.reasoningWriter = new Typewriter(writerOptions);
  }

  get state(): ReplyState {
    return this.reply;
  }

  /** The view as the page should show it now (what the next render would bring it to). */
  get view(): ReplyView {
    const reply = this.reply;
    const ended = isTerminalStatus(reply.status);
    const view: ReplyView = {
      text: ended ? reply.text : this.textWriter.visible,
      reasoning: ended ? reply.reasoning : this.reasoningWriter.visible,
      status: reply.status,
    };
    if (reply.error !== undefined) {
      view.errorCode = reply.error.code;
      view.errorMessage = this.expired ? RESUME_EXPIRED_MESSAGE : userMessageFor(reply.error.code);
      view.retryable = reply.error.retryable;
    }
    if (reply.finishReason !== undefined) view.finishReason = reply.finishReason;
    if (reply.conversationId !== undefined) view.conversationId = reply.conversationId;
    if (reply.messageId !== undefined) view.messageId = reply.messageId;
    return view;
  }

  start(body: ChatRequest): void {
    if (this.started) throw new Error('ReplySession.start: a session carries one reply; create a new session to send again');
    if (this.disposed) return;
    this.started = true;
    this.requestId = body.requestId;
    this.requestRender();
    this.connect((handlers) => this.options.openStream(body, handlers));
  }

  /**
   * Whether this reply ended because its connection kept failing until the attempts to continue it ran
   * out — not because the server ended it (an `error` event) or no longer has it. Such a reply is best
   * continued with `reopen` on a new session: sending the message again would be refused while the
   * server still generates the reply, or duplicate the turn.
   */
  get reopenable(): boolean {
    return this.gaveUp && this.reply.status === 'error' && this.reply.messageId !== undefined;
  }

  /**
   * Continues `previous` — the final state of a session that was `reopenable` — from its last event id
   * through the events route, instead of `start`. `onGone` runs (and nothing is rendered) when the server
   * answers 404 before any new event; without it that 404 ends the reply like any expired resume.
   */
  reopen(previous: ReplyState, options: { onGone?: () => void } = {}): void {
    if (this.started) throw new Error('ReplySession.reopen: a session carries one reply; create a new session to reopen it');
    if (this.options.resume === undefined || previous.messageId === undefined) {
      throw new Error('ReplySession.reopen: needs the `resume` option and a reply whose `start` event named it (messageId)');
    }
    if (this.disposed) return;
    this.started = true;
    const reply: ReplyState = { ...previous, status: 'streaming' };
    delete reply.error;
    delete reply.finishReason;
    this.reply = reply;
    // The reader already sees this text; typing it again would look like the reply started over.
    this.textWriter.preset(previous.text);
    this.reasoningWriter.preset(previous.reasoning);
    this.onGone = options.onGone;
    this.requestRender();
    this.reconnect();
  }

  /**
   * The page is back (app in the foreground again, network back): continue a broken reply now rather
   * than after its backoff, with a fresh attempt budget; with `force` (the network changed under an
   * open connection), or when the open connection has gone quiet, replace it. Returns whether a new
   * connection was opened.
   */
  resume(options: { force?: boolean } = {}): boolean {
    const messageId = this.reply.messageId;
    if (!this.started || this.disposed || isTerminalStatus(this.reply.status)) return false;
    if (this.options.resume === undefined || messageId === undefined) return false;
    const open = this.stream !== undefined && !this.retryArmed;
    if (open && options.force !== true && this.clock.now() - this.lastActivityAt < this.staleAfterMs) return false;
    this.dropConnection();
    this.resumeAttempts = 0;
    this.reconnect();
    return true;
  }

  stop(): void {
    if (!this.started || this.disposed || isTerminalStatus(this.reply.status)) return;
    const messageId = this.reply.messageId;
    const requestId = this.requestIdForStop;
    this.reply = stopReply(this.reply);
    // Before `start` the request stays open, silently: with a requestId the server is told at once and ends
    // the reply `stopped`; without one, the `start` event brings the id to tell it.
    this.stopPending =
      messageId === undefined && this.stream !== undefined && (requestId !== undefined || this.options.stopReply !== undefined);
    this.end();
    if (requestId !== undefined) this.options.stopRequest?.(requestId);
    else if (messageId !== undefined) this.options.stopReply?.(messageId);
  }

  setVisible(visible: boolean): void {
    if (this.disposed || visible === this.visible) return;
    this.visible = visible;
    if (!visible) {
      this.cancelRender();
      this.textWriter.pause();
      this.reasoningWriter.pause();
      return;
    }
    this.textWriter.resume();
    this.reasoningWriter.resume();
    this.requestRender();
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.reply = stopReply(this.reply);
    this.stopPending = false;
    this.stopStream();
    this.cancelIdle();
    this.cancelRetry();
    this.cancelRender();
    this.textWriter.dispose();
    this.reasoningWriter.dispose();
  }

  /** Opens a connection with handlers bound to it, so a connection given up can no longer change anything. */
  private connect(open: StreamOpener): void {
    const generation = ++this.generation;
    const current = (): boolean => generation === this.generation && !this.disposed;
    this.lastActivityAt = this.clock.now();
    this.opened = false;
    let stream: { stop(): void };
    try {
      stream = open({
        onEvent: (event) => {
          if (current()) this.handleEvent(event);
        },
        onError: (error) => {
          if (current()) this.handleError(error);
        },
        onHeartbeat: () => {
          if (current()) this.noteActivity();
        },
        onOpen: () => {
          if (current()) this.noteActivity();
        },
      });
    } catch (cause) {
      // Errors are values here too: a throwing transport ends this reply, it does not strand it.
      const error = cause instanceof WxstreamError ? cause : new WxstreamError('network_error', `openStream threw: ${String(cause)}`, { cause });
      if (current()) this.handleError(error);
      return;
    }
    // The transport may have failed synchronously (e.g. an unsupported platform), ending the reply or
    // scheduling another attempt.
    if (!current() || (isTerminalStatus(this.reply.status) && !this.stopPending)) {
      stream.stop();
      return;
    }
    this.stream = stream;
    // The watchdog waits for the connection to answer (`noteActivity`), which may have happened already.
    if (this.opened) this.armIdle(this.idleTimeoutMs);
  }

  /** Opens the events route after the last event applied. */
  private reconnect(): void {
    const resume = this.options.resume;
    const messageId = this.reply.messageId;
    if (resume === undefined || messageId === undefined) return;
    this.resuming = true;
    const lastEventId = this.reply.lastEventId;
    this.connect((handlers) => resume.open(messageId, lastEventId, handlers));
  }

  /** Gives up the current connection (or pending attempt) without ending the reply. */
  private dropConnection(): void {
    this.generation++;
    this.stopStream();
    this.cancelIdle();
    this.cancelRetry();
  }

  private handleEvent(event: ReplyEvent): void {
    if (this.stopPending) {
      this.finishPendingStop(event);
      return;
    }
    const before = this.reply;
    const after = reduceReply(before, event);
    if (after === before) return;
    this.reply = after;
    this.resumeAttempts = 0;
    this.onGone = undefined;
    this.noteActivity();
    if (isTerminalStatus(after.status)) {
      this.end();
    } else {
      if (after.reasoning.length > before.reasoning.length) this.reasoningWriter.push(after.reasoning.slice(before.reasoning.length));
      if (after.text.length > before.text.length) this.textWriter.push(after.text.slice(before.text.length));
      if (after.conversationId !== before.conversationId || after.messageId !== before.messageId) this.requestRender();
    }
    this.options.onStateChange?.(after, before);
  }

  private handleError(error: WxstreamError): void {
    if (this.stopPending) {
      this.stopPending = false;
      this.dropConnection();
      return;
    }
    if (isTerminalStatus(this.reply.status)) return;
    if (isConnectionFailure(error) && this.options.resume !== undefined && this.reply.messageId !== undefined) {
      this.retryLater(error);
      return;
    }
    if (this.resuming && error.code === 'not_found') {
      const onGone = this.onGone;
      if (onGone !== undefined) {
        this.dispose();
        onGone();
        return;
      }
      this.expired = true;
      this.fail(new WxstreamError('not_found', `the reply can no longer be resumed: ${error.message}`, { retryable: false, status: error.status }));
      return;
    }
    this.fail(error);
  }

  /** Waits out the backoff, then continues the reply — unless the attempts are used up. */
  private retryLater(error: WxstreamError): void {
    this.dropConnection();
    const resume = this.options.resume;
    if (resume === undefined) return;
    if (this.resumeAttempts >= this.maxResumeAttempts) {
      this.gaveUp = true;
      this.fail(new WxstreamError(error.code, `${error.message} (gave up after ${this.resumeAttempts} attempts to resume)`, { retryable: error.retryable, status: error.status }));
      return;
    }
    const delay = backoffDelay(this.resumeAttempts, resume.random, {
      baseDelayMs: resume.baseDelayMs ?? DEFAULT_RESUME_BACKOFF.baseDelayMs,
      maxDelayMs: resume.maxDelayMs ?? DEFAULT_RESUME_BACKOFF.maxDelayMs,
    });
    this.resumeAttempts++;
    this.retryArmed = true;
    this.retryTimer = this.scheduler.setTimeout(() => {
      this.retryArmed = false;
      this.retryTimer = undefined;
      if (this.disposed || isTerminalStatus(this.reply.status)) return;
      this.reconnect();
    }, delay);
  }

  private cancelRetry(): void {
    if (!this.retryArmed) return;
    this.retryArmed = false;
    this.scheduler.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  /** Stop was pressed before the reply had an id: the `start` event brings it, and the server is told. */
  private finishPendingStop(event: ReplyEvent): void {
    if (event.type !== 'start' && event.type !== 'done' && event.type !== 'error') return;
    this.stopPending = false;
    this.dropConnection();
    if (event.type === 'start' && this.requestIdForStop === undefined) this.options.stopReply?.(event.data.messageId);
  }

  /** The request id a stop is sent by: only when the caller gave a way to stop by request id. */
  private get requestIdForStop(): string | undefined {
    return this.options.stopRequest !== undefined ? this.requestId : undefined;
  }

  private fail(error: WxstreamError): void {
    const after = failReply(this.reply, error.toWire());
    if (after === this.reply) return;
    this.reply = after;
    this.end();
  }

  /** The reply has reached a terminal status: release everything and show the final state at once. */
  private end(): void {
    this.cancelRetry();
    if (!this.stopPending) {
      this.stopStream();
      this.cancelIdle();
    }
    this.textWriter.dispose();
    this.reasoningWriter.dispose();
    if (this.visible) this.requestRender();
    else this.settle();
  }

  private stopStream(): void {
    const stream = this.stream;
    this.stream = undefined;
    stream?.stop();
  }

  private requestRender(): void {
    if (!this.visible || this.disposed || this.renderArmed) return;
    this.renderArmed = true;
    const wait = Math.max(0, this.lastRenderAt + this.frameIntervalMs - this.clock.now());
    this.renderTimer = this.scheduler.setTimeout(() => this.render(), wait);
  }

  private cancelRender(): void {
    if (!this.renderArmed) return;
    this.renderArmed = false;
    this.scheduler.clearTimeout(this.renderTimer);
    this.renderTimer = undefined;
  }

  private render(): void {
    this.renderArmed = false;
    this.renderTimer = undefined;
    if (!this.visible || this.disposed) return;
    const view = this.view;
    const patch = diffView(this.rendered, view);
    if (patch !== undefined) {
      this.rendered = view;
      this.lastRenderAt = this.clock.now();
      this.options.onRender(patch);
    }
    if (isTerminalStatus(this.reply.status)) this.settle();
  }

  private settle(): void {
    if (this.settled || this.disposed) return;
    this.settled = true;
    this.options.onSettled?.(this.reply);
  }

  /** The open connection answered: its silence counts from now, and the watchdog runs from its first answer. */
  private noteActivity(): void {
    this.lastActivityAt = this.clock.now();
    if (this.opened) return;
    this.opened = true;
    if (this.stream !== undefined && !this.idleArmed) this.armIdle(this.idleTimeoutMs);
  }

  private armIdle(ms: number): void {
    if (!(this.idleTimeoutMs > 0) || !Number.isFinite(this.idleTimeoutMs)) return;
    this.idleArmed = true;
    this.idleTimer = this.scheduler.setTimeout(() => this.checkIdle(), ms);
  }

  private cancelIdle(): void {
    if (!this.idleArmed) return;
    this.idleArmed = false;
    this.scheduler.clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }

  private checkIdle(): void {
    this.idleArmed = false;
    if (this.disposed || (isTerminalStatus(this.reply.status) && !this.stopPending)) return;
    const quietFor = this.clock.now() - this.lastActivityAt;
    if (quietFor < this.idleTimeoutMs) {
      this.armIdle(this.idleTimeoutMs - quietFor);
      return;
    }
    if (this.stopPending) {
      // The `start` event never came: stop waiting for it.
      this.stopPending = false;
      this.dropConnection();
      return;
    }
    this.handleError(new WxstreamError('stream_interrupted', `no event or heartbeat for ${quietFor} ms`));
  }
}

/** The fields of `next` that differ from `previous`; undefined when nothing changed. */
function diffView(previous: ReplyView | undefined, next: ReplyView): ReplyViewPatch | undefined {
  const patch: Record<string, unknown> = {};
  let changed = false;
  for (const key of VIEW_KEYS) {
    const value = next[key];
    if (value === undefined || (previous !== undefined && previous[key] === value)) continue;
    patch[key] = value;
    changed = true;
  }
  return changed ? (patch as ReplyViewPatch) : undefined;
}
