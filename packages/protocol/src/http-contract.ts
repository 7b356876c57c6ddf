/**
 * The HTTP side of the contract: routes, request and response bodies, stream headers.
 *
 * Stream headers are what keep proxies from buffering and compressing a reply: `no-transform`
 * forbids intermediaries from re-encoding, `X-Accel-Buffering: no` switches nginx's buffering off for
 * this response. The server never compresses a stream (compression buffers bytes to fill blocks).
 */

export const PROTOCOL_VERSION = 1;

export const ROUTES = {
  chat: '/api/chat',
  login: '/api/auth/login',
  conversations: '/api/conversations',
  /** `GET`, `PATCH {title}`, `DELETE` one conversation: `/api/conversations/:id`. */
  conversation: '/api/conversations/:id',
  health: '/healthz',
  /**
   * `GET`: replays a reply's events after `Last-Event-ID` (header, or `lastEventId` in the query for
   * clients that cannot set headers, like `wx.request`) and then follows it live to its end. Unknown,
   * expired or another user's reply → 404. Same ids as the original stream.
   */
  replyEvents: '/api/chat/:messageId/events',
  /** `POST`: stops a reply in progress (aborts the model call, stores the partial reply as stopped). */
  stopReply: '/api/chat/:messageId/stop',
  /**
   * `POST` (authenticated, `multipart/form-data`, the audio in field `file`, optional field `language`):
   * speech to text → `TranscriptionResponse`. `GET`: what voice input can do here → `TranscriptionCapabilities`.
   */
  transcriptions: '/api/transcriptions',
  /** `PUT`: make a version of a turn current (`:messageId` is the version's reply, or its question). */
  currentVersion: '/api/conversations/:id/messages/:messageId/current',
  /** `PUT {rating, comment?}`: the owner's feedback on an assistant message. */
  feedback: '/api/messages/:messageId/feedback',
  /** `POST`: snapshot the conversation as a share; `GET`: the owner's shares of it. */
  conversationShares: '/api/conversations/:id/shares',
  /** `GET` (no token): a shared snapshot; `DELETE` (owner): revoke it. */
  share: '/api/shares/:shareId',
  /** `GET` (with `Range`): one spoken segment, through the signed URL of its `audio` event. No Authorization. */
  audio: '/api/audio/:id',
  /**
   * `POST`: stops the reply a chat request (its `requestId`) started — before or after its `start` event; a
   * stop that arrives before the request is remembered for a bounded time. Another user's requestId → 404.
   */
  stopRequest: '/api/chat/requests/:requestId/stop',
  /** `POST`: speaks a stored reply (the caller's own assistant message): `audio` events and one `done`. */
  messageSpeech: '/api/messages/:messageId/speech',
} as const;

export const STREAM_HEADERS = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-transform',
  'X-Accel-Buffering': 'no',
  Connection: 'keep-alive',
} as const;

/** Header carrying the protocol version on every stream response. */
export const PROTOCOL_HEADER = 'X-Wxstream-Protocol';

/**
 * A new turn: `message` (and `conversationId` to continue one). Regenerating the last reply:
 * `{conversationId, regenerate: true}` with no `message`. Editing the last question:
 * `{conversationId, message, editOf: <id of the last user message>}` — a new version of the turn.
 */
export interface ChatRequest {
  /** Absent only when `regenerate` is true (the reply is made again from the stored question). */
  message?: string;
  conversationId?: string;
  /** Make a new version of the conversation's last reply, from the same question. Needs `conversationId`. */
  regenerate?: boolean;
  /** The id of the conversation's last user message: `message` replaces it as a new version of that turn. */
  editOf?: string;
  /** Ask for the reply to be spoken too: `audio` events join the stream. */
  voice?: boolean;
  /** The provider's voice to speak in (1-64 of `A-Za-z0-9_.-`); the server's default when absent. */
  voiceName?: string;
  /**
   * Made by the client for each message it sends (`REQUEST_ID_PATTERN`), and sent again with the same
   * message when it retries: a repeat from the same user does not start another turn but answers with
   * that reply (its events from the start, or 202 in polling delivery). Also what a stop can name before
   * the reply has an id (`ROUTES.stopRequest`).
   */
  requestId?: string;
  /**
   * `stream` (default): the reply streams in the response. `poll`: for clients that cannot read a body as it
   * arrives, the answer is `202 ChatAcceptedResponse` once the turn is committed, and the events are read
   * with `GET replyEvents?lastEventId=N&poll=1` (`POLL_QUERY`) until the terminal one.
   */
  delivery?: ReplyDelivery;
}

export type ReplyDelivery = 'stream' | 'poll';
export const REPLY_DELIVERIES: readonly ReplyDelivery[] = ['stream', 'poll'];

/** What a `requestId` may be: 8–64 of `A-Za-z0-9_-` (a UUID without braces, a nanoid, …). */
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9_-]{8,64}$/;

export function isValidRequestId(value: unknown): value is string {
  return typeof value === 'string' && REQUEST_ID_PATTERN.test(value);
}

/** `202` answer of `POST /api/chat` with `"delivery":"poll"`: where to poll the reply's events. */
export interface ChatAcceptedResponse {
  messageId: string;
  conversationId: string;
}

/**
 * Query parameter that turns the events route into one poll: a complete `text/event-stream` body (with
 * `Content-Length`) of every event after `lastEventId` that exists — waiting up to the server's poll wait
 * for the first one — then the response ends.
 */
export const POLL_QUERY = 'poll';

export interface LoginRequest {
  code: string;
  /**
   * Development login only: a stable id of this device (kept in storage), used as the identity instead of
   * `code` — each `wx.login` code is new, so with it every re-login would be a new user. WeChat login
   * ignores it.
   */
  devCode?: string;
}

export interface LoginResponse {
  token: string;
  /** Seconds until the token expires. */
  expiresIn: number;
}

export const DEFAULT_HEARTBEAT_MS = 15_000;

/** Query parameter carrying the last event id a client has, for clients that cannot send `Last-Event-ID`. */
export const LAST_EVENT_ID_QUERY = 'lastEventId';

/** Answer of `POST /api/chat/:messageId/stop`: `stopping` when it was running, `ended` when it had already ended. */
export interface StopReplyResponse {
  status: 'stopping' | 'ended';
}

/**
 * Answer of `POST /api/chat/requests/:requestId/stop`: `stopping`/`ended` as for a reply; `pending` when
 * the request has not reached the server yet — the stop is remembered and the reply ends `stopped` as
 * soon as it would have started.
 */
export interface StopRequestResponse {
  status: 'stopping' | 'ended' | 'pending';
}

/** Builds a concrete path from a route template, e.g. `routePath(ROUTES.replyEvents, { messageId })`. */
export function routePath(template: string, params: Record<string, string>): string {
  return template.replace(/:([A-Za-z]+)/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`routePath: missing parameter "${name}" for ${template}`);
    return encodeURIComponent(value);
  });
}

/** The multipart field that carries the recording in `POST /api/transcriptions` (what `wx.uploadFile`'s `name` says). */
export const TRANSCRIPTION_FILE_FIELD = 'file';
/** Optional multipart field: the language spoken (`zh`, `en`, …); the provider's default when absent. */
export const TRANSCRIPTION_LANGUAGE_FIELD = 'language';

/** Audio formats `POST /api/transcriptions` recognises by their bytes: what WeChat's RecorderManager writes. */
export const TRANSCRIPTION_FORMATS = ['mp3', 'aac', 'm4a', 'wav'] as const;
export type TranscriptionFormat = (typeof TRANSCRIPTION_FORMATS)[number];

/** Answer of `POST /api/transcriptions`. Silence is not an empty text: it is the `no_speech` error. */
export interface TranscriptionResponse {
  /** What was said, trimmed; never empty. */
  text: string;
  /** The language recognised or asked for, when the provider says. */
  language?: string;
  /** Playing time of the recording, from its bytes. */
  durationMs?: number;
}

/** Answer of `GET /api/transcriptions`: whether voice input works here, and its limits. */
export interface TranscriptionCapabilities {
  available: boolean;
  /** `openai`, `youdao`, `pocketsphinx` or `off`. */
  provider: string;
  /** Languages the provider recognises (`en`, `zh`, …); empty when it takes any it knows. */
  languages: string[];
  /** Longest recording accepted. */
  maxDurationMs: number;
  /** Largest upload accepted. */
  maxBytes: number;
  formats: TranscriptionFormat[];
}
