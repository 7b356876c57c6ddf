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
 * - `onSettled(state)` runs exactly once, right after the final render — or at the end itself while the
 *   page is hidden, since the catch-up render will show it.
 * - Hidden (`setVisible(false)`): no `onRender` at all and no render or typewriter timers. Visible
 *   again: one catch-up render with everything that changed.
 * - Idle watchdog: with no event and no heartbeat for `idleTimeoutMs` the reply fails with
 *   `stream_interrupted` (a stalled connection would otherwise hang forever).
 * - After `dispose()`: no callbacks, no timers, the transport is stopped.
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

export interface ReplySessionOptions {
  openStream: (body: ChatRequest, handlers: ReplyStreamHandlers) => { stop(): void };
  clock: Clock;
  scheduler: Scheduler;
  /** Only the fields that changed since the last call; at most one call per frame interval. */
  onRender: (patch: ReplyViewPatch) => void;
  /** Once, when the reply has ended and its final state has been rendered. */
  onSettled?: (state: ReplyState) => void;
  typewriter?: Partial<Pick<TypewriterOptions, 'frameIntervalMs' | 'charsPerSecond' | 'maxLagMs'>>;
  /** Fail when neither an event nor a heartbeat arrives for this long. Default 3 heartbeats; 0 turns it off. */
  idleTimeoutMs?: number;
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

  constructor(options: ReplySessionOptions) {
    this.options = options;
    this.clock = options.clock;
    this.scheduler = options.scheduler;
    const interval = options.typewriter?.frameIntervalMs;
    // The same budget as the typewriters (which fall back to the default the same way).
    this.frameIntervalMs = interval !== undefined && Number.isFinite(interval) && interval > 0 ? interval : DEFAULT_FRAME_INTERVAL_MS;
    this.idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
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
      view.errorMessage = userMessageFor(reply.error.code);
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
    this.lastActivityAt = this.clock.now();
    this.requestRender();
    let stream: { stop(): void };
    try {
      stream = this.options.openStream(body, {
        onEvent: (event) => this.handleEvent(event),
        onError: (error) => this.handleError(error),
        onHeartbeat: () => this.noteActivity(),
      });
    } catch (cause) {
      // Errors are values here too: a throwing transport ends this reply, it does not strand it.
      const error = cause instanceof WxstreamError ? cause : new WxstreamError('network_error', `openStream threw: ${String(cause)}`, { cause });
      this.handleError(error);
      return;
    }
    // The transport may have ended the reply synchronously (e.g. an unsupported platform).
    if (isTerminalStatus(this.reply.status) || this.disposed) {
      stream.stop();
      return;
    }
    this.stream = stream;
    this.armIdle(this.idleTimeoutMs);
  }

  stop(): void {
    if (!this.started || this.disposed || isTerminalStatus(this.reply.status)) return;
    this.reply = stopReply(this.reply);
    this.end();
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
    this.stopStream();
    this.cancelIdle();
    this.cancelRender();
    this.textWriter.dispose();
    this.reasoningWriter.dispose();
  }

  private handleEvent(event: ReplyEvent): void {
    if (this.disposed) return;
    const before = this.reply;
    const after = reduceReply(before, event);
    if (after === before) return;
    this.reply = after;
    this.noteActivity();
    if (isTerminalStatus(after.status)) {
      this.end();
      return;
    }
    if (after.reasoning.length > before.reasoning.length) this.reasoningWriter.push(after.reasoning.slice(before.reasoning.length));
    if (after.text.length > before.text.length) this.textWriter.push(after.text.slice(before.text.length));
    if (after.conversationId !== before.conversationId || after.messageId !== before.messageId) this.requestRender();
  }

  private handleError(error: WxstreamError): void {
    if (this.disposed) return;
    const after = failReply(this.reply, error.toWire());
    if (after === this.reply) return;
    this.reply = after;
    this.end();
  }

  /** The reply has reached a terminal status: release everything and show the final state at once. */
  private end(): void {
    this.stopStream();
    this.cancelIdle();
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

  private noteActivity(): void {
    this.lastActivityAt = this.clock.now();
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
    if (this.disposed || isTerminalStatus(this.reply.status)) return;
    const quietFor = this.clock.now() - this.lastActivityAt;
    if (quietFor < this.idleTimeoutMs) {
      this.armIdle(this.idleTimeoutMs - quietFor);
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
