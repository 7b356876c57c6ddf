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
} as const;

export const STREAM_HEADERS = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-transform',
  'X-Accel-Buffering': 'no',
  Connection: 'keep-alive',
} as const;

/** Header carrying the protocol version on every stream response. */
export const PROTOCOL_HEADER = 'X-Wxstream-Protocol';

export interface ChatRequest {
  message: string;
  conversationId?: string;
}

export interface LoginRequest {
  code: string;
}

export interface LoginResponse {
  token: string;
  /** Seconds until the token expires. */
  expiresIn: number;
}

export const DEFAULT_HEARTBEAT_MS = 15_000;
