/**
 * The `wx.request` transport: one chat request in, typed reply events out.
 *
 * Contract:
 * - `openReplyStream` POSTs the `ChatRequest` as JSON; `openReplyEvents` GETs a reply's events route to
 *   continue it after `lastEventId`, which it sends both as the `Last-Event-ID` header and in the
 *   `lastEventId` query (proxies and some platforms drop custom headers). Both go through the same
 *   request with `enableChunked: true` and `responseType: 'arraybuffer'` and everything below; the
 *   bearer token, when given, goes in `Authorization`.
 * - The status decides what the body is, before any byte is read as events: 200 → every chunk goes
 *   through ONE `Utf8StreamDecoder` (stream mode, so a character split across chunks is carried over)
 *   into ONE `SseParser`, and each message through `parseReplyEvent` to `onEvent`. Non-200 → the chunks
 *   are an error body: collected, decoded once at the end and mapped through `parseErrorBody` to a
 *   `WxstreamError`; a body that says nothing readable (empty, missing, not ours) takes the code its status
 *   means (`errorFromStatus`: 401 `invalid_token`, 404 `not_found`, 409 `reply_in_progress`, 413, 429 with
 *   `Retry-After`, any 5xx retryable); never shown as reply text.
 *   The status comes from `onHeadersReceived` (real devices pass `statusCode` there; DevTools does not,
 *   and then an `text/event-stream` content type marks a stream, and otherwise bytes are held until
 *   `success` tells the status).
 * - Exactly one terminal callback: a `done`/`error` event, or `onError` (malformed event → `bad_response`;
 *   body ended without a terminal event → `stream_interrupted`; request failed → `network_error`, or
 *   `stream_interrupted` once events were delivered). Nothing is delivered after it.
 * - `stop()` detaches the chunk listener, aborts the request and makes every late chunk, `success` or
 *   `fail` (including WeChat's "request:fail abort") silent. No callback runs after `stop()` returns.
 * - Platforms that deliver no chunks but the whole body in `success.data` (PC WeChat, old base
 *   libraries) get that body parsed through the same decoder and parser. `onOpen` tells the caller when
 *   the server first answered (headers or a first byte), which such a platform only does at the end.
 * - `openReplyPoll` is one poll of the events route (polled-reply.ts loops it): read whole, and a body
 *   without a terminal event ends the batch (`onBatchEnd`) instead of counting as an interruption.
 * - `abandon()` stops listening without aborting the request (see reply-delivery.ts).
 * - `chunkedSupported === false` fails at once with `unsupported_platform`, without a request. Callbacks
 *   may run synchronously inside `openReplyStream` in that case and when `request` throws.
 * Events of a type this client does not know (a newer server) are skipped, not treated as malformed.
 */
import {
  LAST_EVENT_ID_QUERY,
  POLL_QUERY,
  REPLY_EVENT_TYPES,
  WxstreamError,
  isTerminalEvent,
  parseErrorBody,
  parseReplyEvent,
  type ChatRequest,
  type ErrorCode,
  type ReplyEvent,
} from '@wxstream/protocol';
import { SseParser, type SseMessage } from './sse-parser.ts';
import { Utf8StreamDecoder } from './utf8-stream-decoder.ts';

// Structural types: compatible with miniprogram-api-typings (so `wx.request` can be passed as is)
// without depending on them here.

export interface WxRequestHeadersResult {
  header: Record<string, string>;
  /** Present on devices; DevTools leaves it out. */
  statusCode?: number;
}

export interface WxRequestChunkResult {
  data: ArrayBuffer;
}

export type WxRequestHeadersListener = (result: WxRequestHeadersResult) => void;
export type WxRequestChunkListener = (result: WxRequestChunkResult) => void;

export interface WxRequestTaskLike {
  abort(): void;
  onHeadersReceived(listener: WxRequestHeadersListener): void;
  offHeadersReceived?(listener?: WxRequestHeadersListener): void;
  onChunkReceived(listener: WxRequestChunkListener): void;
  offChunkReceived(listener?: WxRequestChunkListener): void;
}

export interface WxRequestSuccessResult {
  statusCode: number;
  header: Record<string, string>;
  /** An ArrayBuffer with `responseType: 'arraybuffer'`; some platforms hand a string or parsed JSON. */
  data: ArrayBuffer | string | Record<string, unknown>;
}

export interface WxRequestFailResult {
  errMsg: string;
  errno?: number;
}

export interface WxRequestOptionsLike {
  url: string;
  method: 'POST' | 'GET';
  header: Record<string, string>;
  /** The JSON body of a POST; absent on a GET (wx.request would turn it into a query string). */
  data?: string;
  enableChunked: boolean;
  responseType: 'arraybuffer';
  /** Anything but 'json': WeChat must not try to JSON.parse the body. */
  dataType: string;
  timeout?: number;
  success: (result: WxRequestSuccessResult) => void;
  fail: (error: WxRequestFailResult) => void;
  complete?: () => void;
}

export type WxRequestLike = (options: WxRequestOptionsLike) => WxRequestTaskLike;

export interface ReplyStreamHandlers {
  onEvent(event: ReplyEvent): void;
  onError(error: WxstreamError): void;
  /** A heartbeat comment arrived: the connection is alive although no event came. */
  onHeartbeat?(): void;
  /**
   * The server has started to answer: the headers or the first byte arrived (once per request). A platform
   * that hands the whole body over only at the end calls it then, not before.
   */
  onOpen?(): void;
}

/** What every stream request takes, whichever route it opens. */
export interface StreamRequestOptions {
  request: WxRequestLike;
  token?: string;
  handlers: ReplyStreamHandlers;
  /** `false` on base libraries without `enableChunked` (see `supportsChunkedRequest`). */
  chunkedSupported?: boolean;
  /** `wx.request`'s own timeout for the whole request; WeChat's default applies when left out. */
  timeoutMs?: number;
  onHeartbeat?: () => void;
}

export interface OpenReplyStreamOptions extends StreamRequestOptions {
  /** The chat route's full URL. */
  url: string;
  body: ChatRequest;
}

export interface OpenReplyEventsOptions extends StreamRequestOptions {
  /** The reply's events route as a full URL (`routePath(ROUTES.replyEvents, { messageId })` on the server's origin). */
  url: string;
  /** The id of the last event the client has applied; the server replays every event after it. */
  lastEventId: number;
}

export interface ReplyStreamHandle {
  stop(): void;
  /**
   * Stops listening like `stop()` but leaves the request itself running (no abort), so the server does not
   * see the client leave: for a chat request whose reply is now read another way (polling).
   */
  abandon?(): void;
}

/** The first base library whose `wx.request` supports `enableChunked` and `onChunkReceived`. */
export const CHUNKED_REQUEST_MIN_SDK = '2.20.2';

/** Whether a base library version (`wx.getSystemInfoSync().SDKVersion`) can stream; unparseable → false. */
export function supportsChunkedRequest(sdkVersion: string): boolean {
  const have = parseVersion(sdkVersion);
  const need = parseVersion(CHUNKED_REQUEST_MIN_SDK) as number[];
  if (have === undefined) return false;
  for (let i = 0; i < need.length; i++) {
    const a = have[i] ?? 0;
    const b = need[i] as number;
    if (a !== b) return a > b;
  }
  return true;
}

function parseVersion(version: string): number[] | undefined {
  const parts = version.trim().split('.');
  const numbers = parts.map((part) => (/^\d+$/.test(part) ? Number(part) : Number.NaN));
  return numbers.length === 0 || numbers.some(Number.isNaN) ? undefined : numbers;
}

export function openReplyStream(options: OpenReplyStreamOptions): ReplyStreamHandle {
  return openStream(options, {
    url: options.url,
    method: 'POST',
    header: { 'Content-Type': 'application/json' },
    data: JSON.stringify(options.body),
  });
}

export function openReplyEvents(options: OpenReplyEventsOptions): ReplyStreamHandle {
  const lastEventId = String(Math.max(0, Math.floor(options.lastEventId)));
  const separator = options.url.includes('?') ? '&' : '?';
  return openStream(options, {
    url: `${options.url}${separator}${LAST_EVENT_ID_QUERY}=${lastEventId}`,
    method: 'GET',
    header: { 'Last-Event-ID': lastEventId },
  });
}

export interface OpenMessageSpeechOptions extends StreamRequestOptions {
  /** The speech route of a stored reply as a full URL (`routePath(ROUTES.messageSpeech, { messageId })`). */
  url: string;
  /** The provider's voice; the server's default when absent. */
  voiceName?: string;
}

/** Speaks a stored reply: its `audio` events and one `done`, read like any reply stream. */
export function openMessageSpeech(options: OpenMessageSpeechOptions): ReplyStreamHandle {
  return openStream(options, {
    url: options.url,
    method: 'POST',
    header: { 'Content-Type': 'application/json' },
    data: JSON.stringify(options.voiceName === undefined ? {} : { voiceName: options.voiceName }),
  });
}

/** The route-specific part of a stream request. */
interface StreamTarget {
  url: string;
  method: WxRequestOptionsLike['method'];
  header: Record<string, string>;
  data?: string;
  /**
   * A poll (`POLL_QUERY`): the body is a complete batch of events, read whole (no `enableChunked`, so any
   * base library can), and a body that ends without a terminal event is not an interruption: `onBatchEnd`
   * runs instead, and the caller polls again.
   */
  onBatchEnd?: () => void;
}

function openStream(options: StreamRequestOptions, target: StreamTarget): ReplyStreamHandle {
  const stream = new ReplyStream(options, target);
  stream.open();
  return { stop: () => stream.stop(), abandon: () => stream.abandon() };
}

export interface OpenReplyPollOptions extends Omit<StreamRequestOptions, 'chunkedSupported'> {
  /** The reply's events route as a full URL. */
  url: string;
  lastEventId: number;
  /** The batch ended without a terminal event: poll again after the last event delivered. */
  onBatchEnd: () => void;
}

/** One poll of a reply's events route: every event after `lastEventId` the server has, as one whole body. */
export function openReplyPoll(options: OpenReplyPollOptions): ReplyStreamHandle {
  const lastEventId = String(Math.max(0, Math.floor(options.lastEventId)));
  const separator = options.url.includes('?') ? '&' : '?';
  return openStream(options, {
    url: `${options.url}${separator}${LAST_EVENT_ID_QUERY}=${lastEventId}&${POLL_QUERY}=1`,
    method: 'GET',
    header: { 'Last-Event-ID': lastEventId },
    onBatchEnd: options.onBatchEnd,
  });
}

/** Error bodies are small JSON; past this a body is not ours and only its start is worth reporting. */
const MAX_ERROR_BODY_BYTES = 16 * 1024;
const ERROR_SNIPPET_CHARS = 200;

const KNOWN_EVENT_TYPES: ReadonlySet<string> = new Set(REPLY_EVENT_TYPES);

class ReplyStream {
  private readonly options: StreamRequestOptions;
  private readonly target: StreamTarget;
  private readonly handlers: ReplyStreamHandlers;
  private readonly decoder = new Utf8StreamDecoder();
  private readonly parser: SseParser;
  private task: WxRequestTaskLike | undefined;

  /*
   * `closed` — the one terminal callback has run, or `stop()` was called: from then on every wx
   *   callback is ignored.
   * `status` — the HTTP status once known (headers event, else `success`).
   * `body` — what the response body is: `undecided` until the status (or an SSE content type) says;
   *   `events` for a 200 stream; `error` for an error body.
   * `held` / `heldBytes` — chunks kept while `undecided` (replayed into the decoder if it becomes a
   *   stream) or as the error body (capped at MAX_ERROR_BODY_BYTES).
   * `sawChunk` — some chunk arrived, so `success.data` (if any) is not the body to parse.
   * `sawEvent` — an event was delivered: a failure now interrupts a reply rather than preventing it.
   * `finished` — WeChat has called `success` or `fail`: the request is over and needs no abort.
   */
  private closed = false;
  private status: number | undefined;
  private body: 'undecided' | 'events' | 'error' = 'undecided';
  private held: Uint8Array[] = [];
  private heldBytes = 0;
  private sawChunk = false;
  private sawEvent = false;
  private finished = false;
  private header: HeaderRecord;
  private opened = false;

  private readonly onHeaders: WxRequestHeadersListener = (result) => this.handleHeaders(result);
  private readonly onChunk: WxRequestChunkListener = (result) => this.handleChunk(result.data);

  constructor(options: StreamRequestOptions, target: StreamTarget) {
    this.options = options;
    this.target = target;
    this.handlers = options.handlers;
    this.parser = new SseParser((message) => this.handleMessage(message), { onComment: () => this.handleHeartbeat() });
  }

  open(): void {
    const { options, target } = this;
    const poll = target.onBatchEnd !== undefined;
    if (options.chunkedSupported === false && !poll) {
      this.failWith(
        new WxstreamError(
          'unsupported_platform',
          `wx.request cannot stream on this WeChat version: enableChunked needs base library ${CHUNKED_REQUEST_MIN_SDK} or later`,
        ),
      );
      return;
    }
    const header: Record<string, string> = { ...target.header, Accept: 'text/event-stream' };
    if (options.token !== undefined && options.token !== '') header.Authorization = `Bearer ${options.token}`;
    const request: WxRequestOptionsLike = {
      url: target.url,
      method: target.method,
      header,
      enableChunked: !poll,
      responseType: 'arraybuffer',
      dataType: 'text',
      success: (result) => this.handleSuccess(result),
      fail: (error) => this.handleFail(error),
    };
    if (target.data !== undefined) request.data = target.data;
    if (options.timeoutMs !== undefined) request.timeout = options.timeoutMs;
    let task: WxRequestTaskLike;
    try {
      task = options.request(request);
    } catch (cause) {
      this.failWith(new WxstreamError('network_error', `wx.request threw: ${describe(cause)}`, { cause }));
      return;
    }
    this.task = task;
    if (this.closed) {
      // The request failed synchronously: nothing to listen to.
      return;
    }
    task.onHeadersReceived(this.onHeaders);
    task.onChunkReceived(this.onChunk);
  }

  stop(): void {
    if (this.closed) return;
    this.closed = true;
    this.release();
  }

  abandon(): void {
    if (this.closed) return;
    this.closed = true;
    // Not finished as far as WeChat knows, but `release` must not abort it: the server keeps the reply going.
    this.finished = true;
    this.release();
  }

  private handleHeaders(result: WxRequestHeadersResult): void {
    if (this.closed) return;
    this.header = result.header;
    this.noteOpen();
    if (this.closed) return;
    if (typeof result.statusCode === 'number') this.status = result.statusCode;
    if (this.body !== 'undecided') return;
    if (this.status === 200 || (this.status === undefined && isEventStream(result.header))) this.startEvents();
    else if (this.status !== undefined) this.body = 'error';
  }

  private handleChunk(data: ArrayBuffer): void {
    if (this.closed) return;
    const bytes = toBytes(data);
    if (bytes.byteLength === 0) return;
    this.sawChunk = true;
    this.noteOpen();
    if (this.closed) return;
    if (this.body === 'events') this.feedBytes(bytes);
    else this.hold(bytes);
  }

  private handleSuccess(result: WxRequestSuccessResult): void {
    if (this.closed) return;
    this.finished = true;
    const status = this.status ?? result.statusCode;
    this.status = status;
    if (result.header !== undefined && result.header !== null) this.header = result.header;
    this.noteOpen();
    if (this.closed) return;
    if (this.body === 'undecided') {
      if (status === 200) this.startEvents();
      else this.body = 'error';
    }
    if (this.closed) return;
    if (this.body === 'error') {
      this.failWith(this.sawChunk ? errorFromText(status, this.heldText(), this.header) : errorFromResponse(status, result.data, this.header));
      return;
    }
    if (!this.sawChunk) this.feedWholeBody(result.data);
    if (this.closed) return;
    const tail = this.decoder.decode();
    if (tail !== '') this.parser.feed(tail);
    if (this.closed) return;
    this.parser.end();
    if (this.closed) return;
    const onBatchEnd = this.target.onBatchEnd;
    if (onBatchEnd !== undefined) {
      this.closed = true;
      this.release();
      onBatchEnd();
      return;
    }
    this.failWith(new WxstreamError('stream_interrupted', 'the response ended without a done or error event'));
  }

  private handleFail(error: WxRequestFailResult): void {
    if (this.closed) return;
    this.finished = true;
    const detail = error.errno === undefined ? error.errMsg : `${error.errMsg} (errno ${error.errno})`;
    this.failWith(
      this.sawEvent
        ? new WxstreamError('stream_interrupted', `the connection broke mid-reply: ${detail}`)
        : new WxstreamError('network_error', `the request failed: ${detail}`),
    );
  }

  private handleMessage(message: SseMessage): void {
    if (this.closed) return;
    if (!KNOWN_EVENT_TYPES.has(message.event)) return;
    const parsed = parseReplyEvent(message);
    if (!parsed.ok) {
      this.failWith(new WxstreamError('bad_response', `malformed reply event: ${parsed.reason}`));
      return;
    }
    this.sawEvent = true;
    const terminal = isTerminalEvent(parsed.event);
    if (terminal) {
      // Closed before the callback, so nothing the callback triggers (or the rest of this chunk) follows it.
      this.closed = true;
      this.release();
    }
    this.handlers.onEvent(parsed.event);
  }

  /** The server has answered (headers or a first byte): from now on silence means a stalled connection. */
  private noteOpen(): void {
    if (this.opened) return;
    this.opened = true;
    this.handlers.onOpen?.();
  }

  private handleHeartbeat(): void {
    if (this.closed) return;
    this.options.onHeartbeat?.();
    this.handlers.onHeartbeat?.();
  }

  private startEvents(): void {
    this.body = 'events';
    const held = this.held;
    this.held = [];
    this.heldBytes = 0;
    for (const bytes of held) {
      if (this.closed) return;
      this.feedBytes(bytes);
    }
  }

  private feedBytes(bytes: Uint8Array): void {
    const text = this.decoder.decode(bytes, { stream: true });
    if (text !== '') this.parser.feed(text);
  }

  private feedWholeBody(data: WxRequestSuccessResult['data']): void {
    if (typeof data === 'string') this.parser.feed(data);
    else if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) this.feedBytes(toBytes(data));
    else if (data !== undefined && data !== null) {
      this.failWith(new WxstreamError('bad_response', 'the platform handed a parsed object where an event stream was expected'));
    }
  }

  private hold(bytes: Uint8Array): void {
    if (this.body === 'error' && this.heldBytes >= MAX_ERROR_BODY_BYTES) return;
    this.held.push(bytes);
    this.heldBytes += bytes.byteLength;
  }

  private heldText(): string {
    const all = new Uint8Array(this.heldBytes);
    let at = 0;
    for (const bytes of this.held) {
      all.set(bytes, at);
      at += bytes.byteLength;
    }
    this.held = [];
    this.heldBytes = 0;
    return new Utf8StreamDecoder().decode(all);
  }

  private failWith(error: WxstreamError): void {
    if (this.closed) return;
    this.closed = true;
    this.release();
    this.handlers.onError(error);
  }

  /** Drops held bytes, detaches from the task and aborts the request unless WeChat already ended it. */
  private release(): void {
    this.held = [];
    this.heldBytes = 0;
    const task = this.task;
    if (task === undefined) return;
    task.offChunkReceived(this.onChunk);
    task.offHeadersReceived?.(this.onHeaders);
    if (!this.finished) task.abort();
  }
}

function isEventStream(header: HeaderRecord): boolean {
  return headerValue(header, 'content-type')?.toLowerCase().includes('text/event-stream') ?? false;
}

function toBytes(data: ArrayBuffer | ArrayBufferView): Uint8Array {
  return data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** The error a non-2xx answer means, from its body where it is ours, else from its status. */
export function errorFromResponse(status: number, data: WxRequestSuccessResult['data'] | undefined, header: HeaderRecord): WxstreamError {
  if (typeof data === 'string') return errorFromText(status, data, header);
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) {
    return errorFromText(status, new Utf8StreamDecoder().decode(toBytes(data).subarray(0, MAX_ERROR_BODY_BYTES)), header);
  }
  return errorFromValue(status, data, '', header);
}

function errorFromText(status: number, text: string, header: HeaderRecord): WxstreamError {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  return errorFromValue(status, value, text, header);
}

function errorFromValue(status: number, value: unknown, text: string, header: HeaderRecord): WxstreamError {
  const retryAfterSeconds = retryAfterOf(header);
  const wire = parseErrorBody(value);
  if (wire !== undefined) return new WxstreamError(wire.code, wire.message, { retryable: wire.retryable, status, retryAfterSeconds });
  return errorFromStatus(status, text, retryAfterSeconds);
}

/**
 * The error a status means when its body says nothing we can read — empty, missing (some platforms hand no
 * body of a chunked error response at all), not JSON, or JSON that is not ours. The statuses the client acts
 * on keep their meaning: 401 logs in again, 404 is an unknown or expired reply, 409 is a reply still running,
 * 413 a message too large, 429 waits `Retry-After`; any 5xx may be retried.
 */
export function errorFromStatus(status: number, bodyText = '', retryAfterSeconds?: number): WxstreamError {
  const snippet = bodyText.replace(/\s+/g, ' ').trim().slice(0, ERROR_SNIPPET_CHARS);
  const message = `HTTP ${status}${snippet === '' ? ' with no readable body' : `: ${snippet}`}`;
  const code = STATUS_CODES[status];
  if (code !== undefined) return new WxstreamError(code, message, { status, retryAfterSeconds });
  // A bare HTTP error (a proxy page, a gateway timeout): retrying helps for 5xx, 408 and 429 only.
  const retryable = status >= 500 || status === 408 || status === 429;
  return new WxstreamError('http_error', message, { status, retryable, retryAfterSeconds });
}

const STATUS_CODES: Readonly<Record<number, ErrorCode>> = {
  400: 'invalid_request',
  401: 'invalid_token',
  404: 'not_found',
  409: 'reply_in_progress',
  413: 'payload_too_large',
  429: 'rate_limited',
};

type HeaderRecord = Record<string, string> | null | undefined;

/** `Retry-After` in seconds (the delta form; an HTTP date is not worth a clock here), or undefined. */
function retryAfterOf(header: HeaderRecord): number | undefined {
  const raw = headerValue(header, 'retry-after');
  if (raw === undefined || !/^\d+$/.test(raw.trim())) return undefined;
  return Number(raw.trim());
}

function headerValue(header: HeaderRecord, lowerName: string): string | undefined {
  if (typeof header !== 'object' || header === null) return undefined;
  for (const name of Object.keys(header)) {
    if (name.toLowerCase() === lowerName) return String(header[name]);
  }
  return undefined;
}

function describe(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}
