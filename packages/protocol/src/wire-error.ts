/**
 * Errors as values on the wire and in code.
 *
 * `WireError` is the JSON shape of an in-band `error` event and the `error` member of a pre-stream
 * error body. `WxstreamError` is the one Error subclass both sides throw, so a `catch` can always
 * read a stable `code` instead of matching message strings.
 */
import { ERROR_CODES, isErrorCode, type ErrorCode } from './error-codes.ts';

export interface WireError {
  code: ErrorCode;
  message: string;
  retryable: boolean;
}

/** Body of every non-2xx JSON answer: `{"error":{"code","message"}}` (retryable added for clients). */
export interface ErrorBody {
  error: { code: ErrorCode; message: string; retryable?: boolean };
}

export class WxstreamError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  /** HTTP status, when the error came from (or will become) an HTTP answer. */
  readonly status: number;
  /** Seconds the server asked to wait before trying again (`Retry-After`), when it said. */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    code: ErrorCode,
    message?: string,
    options?: { retryable?: boolean; status?: number; cause?: unknown; retryAfterSeconds?: number },
  ) {
    super(message ?? ERROR_CODES[code].userMessage, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'WxstreamError';
    this.code = code;
    this.retryable = options?.retryable ?? ERROR_CODES[code].retryable;
    this.status = options?.status ?? ERROR_CODES[code].status;
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }

  toWire(): WireError {
    return { code: this.code, message: this.message, retryable: this.retryable };
  }
}

export function errorBody(code: ErrorCode, message: string): ErrorBody {
  return { error: { code, message, retryable: ERROR_CODES[code].retryable } };
}

/** Reads an error body from any JSON value; `undefined` when it is not one. */
export function parseErrorBody(value: unknown): ErrorBody['error'] | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const inner = (value as { error?: unknown }).error;
  if (typeof inner !== 'object' || inner === null) return undefined;
  const { code, message, retryable } = inner as { code?: unknown; message?: unknown; retryable?: unknown };
  if (!isErrorCode(code) || typeof message !== 'string') return undefined;
  return { code, message, retryable: typeof retryable === 'boolean' ? retryable : ERROR_CODES[code].retryable };
}
