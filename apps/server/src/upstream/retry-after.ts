/**
 * How long a provider asked us to wait before trying again, read from the refusal it sent.
 *
 * Contract: `retryAfterMs(error, nowMs)` looks for Fetch-style `headers` on the error (the openai
 * SDK's `APIError` carries the response's `Headers`) and reads `retry-after-ms` (milliseconds, a
 * non-standard header OpenAI and Azure send) first, then `Retry-After` as delta-seconds (fractions
 * allowed, as some providers send them) or as an HTTP-date measured from `nowMs`. Returns
 * undefined when there is no such header or it cannot be read; never negative. Pure.
 */

interface HeadersLike {
  get(name: string): string | null;
}

function headersOf(error: unknown): HeadersLike | undefined {
  if (typeof error !== 'object' || error === null || !('headers' in error)) return undefined;
  const { headers } = error;
  if (typeof headers !== 'object' || headers === null || !('get' in headers) || typeof headers.get !== 'function') return undefined;
  return headers as HeadersLike;
}

const DECIMAL = /^\d+(\.\d+)?$/;

export function retryAfterMs(error: unknown, nowMs: number): number | undefined {
  const headers = headersOf(error);
  if (headers === undefined) return undefined;

  const millis = headers.get('retry-after-ms')?.trim();
  if (millis !== undefined && DECIMAL.test(millis)) return Math.ceil(Number(millis));

  const value = headers.get('retry-after')?.trim();
  if (value === undefined || value === '') return undefined;
  if (DECIMAL.test(value)) return Math.ceil(Number(value) * 1000);
  // Date.parse reads "-5" as a year; an HTTP-date always names its day and month.
  if (!/[A-Za-z]/.test(value)) return undefined;
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}
