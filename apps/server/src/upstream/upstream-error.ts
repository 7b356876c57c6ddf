/**
 * Maps whatever the OpenAI SDK (or the network under it) threw to one protocol error.
 *
 * Contract: HTTP refusals map by status — 429 → `upstream_rate_limited`, 401/403 →
 * `upstream_auth_failed`, 408 → `upstream_timeout`, other 4xx → `upstream_bad_request`, 5xx →
 * `upstream_unavailable`; no connection (refused, DNS, reset before headers) →
 * `upstream_unavailable`; the SDK's own timeout → `upstream_timeout`; anything during the stream
 * (an error event, a cut connection, unparsable data) → `upstream_error`. Retryability comes from
 * the protocol's table. Messages keep the provider's words for developers, with secrets removed and
 * length capped: providers echo API keys in auth errors.
 */
import { APIConnectionError, APIConnectionTimeoutError, APIError } from 'openai';
import { WxstreamError, type ErrorCode } from '@wxstream/protocol';

const MAX_MESSAGE_CHARS = 300;

/** Whole-match secrets: OpenAI-style keys and bearer credentials. */
const SECRET_PATTERNS: readonly RegExp[] = [/\bsk-[A-Za-z0-9_*-]{6,}/g, /\bBearer\s+[A-Za-z0-9._~+/=-]+/gi];
/** `name=value` / `"name": "value"` pairs whose value is a secret; the name stays readable. */
const SECRET_ASSIGNMENT = /\b(api[_-]?key|token|secret|password)(["']?\s*[:=]\s*["']?)[^\s"',}]+/gi;

export function redactSecrets(text: string, secrets: readonly string[]): string {
  let redacted = text;
  for (const secret of secrets) {
    if (secret.length >= 4) redacted = redacted.split(secret).join('[redacted]');
  }
  for (const pattern of SECRET_PATTERNS) redacted = redacted.replace(pattern, '[redacted]');
  redacted = redacted.replace(SECRET_ASSIGNMENT, '$1$2[redacted]');
  return redacted.length > MAX_MESSAGE_CHARS ? `${redacted.slice(0, MAX_MESSAGE_CHARS)}…` : redacted;
}

function codeForStatus(status: number): ErrorCode {
  if (status === 429) return 'upstream_rate_limited';
  if (status === 401 || status === 403) return 'upstream_auth_failed';
  if (status === 408) return 'upstream_timeout';
  if (status >= 500) return 'upstream_unavailable';
  if (status >= 400) return 'upstream_bad_request';
  return 'upstream_error';
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? ` (${error.cause.message})` : '';
    return `${error.message}${cause}`;
  }
  return String(error);
}

export function mapUpstreamError(
  error: unknown,
  options: { phase: 'before-stream' | 'mid-stream'; secrets: readonly string[] },
): WxstreamError {
  if (error instanceof WxstreamError) return error;
  const detail = redactSecrets(describe(error), options.secrets);
  let code: ErrorCode;
  if (error instanceof APIConnectionTimeoutError) code = 'upstream_timeout';
  else if (error instanceof APIConnectionError) code = options.phase === 'before-stream' ? 'upstream_unavailable' : 'upstream_error';
  else if (error instanceof APIError && typeof error.status === 'number') code = codeForStatus(error.status);
  else code = options.phase === 'before-stream' ? 'upstream_unavailable' : 'upstream_error';
  return new WxstreamError(code, `Model provider: ${detail}`, { cause: error });
}
