/**
 * How a failed call to an OpenAI-compatible audio endpoint (speech, transcription) reads, whatever
 * error type the caller then wraps it in.
 *
 * Contract: `classifyOpenAIFailure(error, who, secrets)` maps by HTTP status — 401/403/404 (bad key,
 * no access, unknown model or endpoint) are `unavailable`; 429 and 5xx retryable `failed`; other
 * 4xx non-retryable `failed` — and a connection failure or anything else to retryable `failed`.
 * The message starts with `who`, keeps the provider's words and has every secret removed.
 */
import { APIConnectionError, APIError } from 'openai';
import { redactSecrets } from './upstream-error.ts';

export interface ServiceFailure {
  readonly kind: 'unavailable' | 'failed';
  readonly retryable: boolean;
  readonly message: string;
}

export function classifyOpenAIFailure(error: unknown, who: string, secrets: readonly string[]): ServiceFailure {
  const detail = redactSecrets(error instanceof Error ? error.message : String(error), secrets);
  if (error instanceof APIError && typeof error.status === 'number') {
    const status = error.status;
    if (status === 401 || status === 403 || status === 404) return { kind: 'unavailable', retryable: false, message: `${who} refused (HTTP ${status}): ${detail}` };
    return { kind: 'failed', retryable: status === 429 || status >= 500, message: `${who} answered HTTP ${status}: ${detail}` };
  }
  if (error instanceof APIConnectionError) return { kind: 'failed', retryable: true, message: `${who} could not be reached: ${detail}` };
  return { kind: 'failed', retryable: true, message: `${who} failed: ${detail}` };
}
