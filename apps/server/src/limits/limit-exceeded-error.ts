/**
 * The error a refused request throws, carrying how long the client should wait.
 *
 * Contract: `retryAfterSeconds` is what the `Retry-After` header must say — whole seconds, rounded
 * up so a client that waits exactly that long is never refused again for the same reason, and at
 * least 1 (`Retry-After: 0` invites an immediate retry storm). It is undefined where no wait is
 * known (`reply_in_progress`: the other reply ends when it ends). The HTTP error handler sets the
 * header; everything else about the answer is the protocol's error body for `code`.
 */
import { WxstreamError, type ErrorCode } from '@wxstream/protocol';

export type LimitErrorCode = Extract<
  ErrorCode,
  'rate_limited' | 'quota_exceeded' | 'reply_in_progress' | 'conversation_too_long' | 'too_many_streams' | 'too_many_readers' | 'server_busy'
>;

export function retryAfterSeconds(retryAfterMs: number): number {
  return Math.max(1, Math.ceil(retryAfterMs / 1000));
}

export class LimitExceededError extends WxstreamError {
  declare readonly code: LimitErrorCode;

  constructor(code: LimitErrorCode, message: string, options?: { retryAfterMs?: number }) {
    super(code, message, options?.retryAfterMs === undefined ? undefined : { retryAfterSeconds: retryAfterSeconds(options.retryAfterMs) });
    this.name = 'LimitExceededError';
  }
}
