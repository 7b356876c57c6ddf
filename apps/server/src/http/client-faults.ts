/**
 * Which failures are the client's doing — it went away mid-request or mid-answer, or sent bytes
 * that are not HTTP — as opposed to ours.
 *
 * Why: these happen all day on a public service (phones lose signal, scanners send junk) and say
 * nothing about the server's health. Logged at `error` with a stack each, they bury real errors
 * and let anyone fill the logs. Contract: `clientFault(error)` is `'gone'` for a connection the
 * client closed or reset (ECONNRESET, EPIPE, ECONNABORTED, a premature close, "aborted", the
 * parser's HPE_INVALID_EOF_STATE when the client hung up mid-request), `'malformed'` for any other
 * HTTP parser error (HPE_*), and undefined for everything else, which stays ours to log at `error`.
 * Callers log client faults without a stack: `gone` at debug, `malformed` at info.
 */

export type ClientFault = 'gone' | 'malformed';

const GONE_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE', 'ERR_STREAM_DESTROYED', 'HPE_INVALID_EOF_STATE']);

export function clientFault(error: unknown): ClientFault | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && GONE_CODES.has(code)) return 'gone';
  if (message === 'aborted' || message === 'request aborted') return 'gone';
  if (typeof code === 'string' && code.startsWith('HPE_')) return 'malformed';
  return undefined;
}

/** The fields a client fault is logged with: what happened, never a stack. */
export function clientFaultFields(error: unknown): { code: string | undefined; reason: string } {
  const { code, message } = error as { code?: unknown; message?: unknown };
  return { code: typeof code === 'string' ? code : undefined, reason: typeof message === 'string' ? message.slice(0, 200) : 'unknown' };
}
