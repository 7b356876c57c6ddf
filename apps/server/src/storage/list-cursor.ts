/**
 * The opaque cursor of the conversation list: the (updatedAt, id) of the last item of a page.
 *
 * Contract: pure. `encodeListCursor` gives a URL-safe string (base64url of a JSON pair) that
 * clients pass back untouched; `decodeListCursor` accepts exactly what `encodeListCursor` makes and
 * rejects anything else with `invalid_request`, so a tampered cursor never reaches a query. The
 * position is a key, not an offset, so it stays meaningful when rows are added or deleted.
 */
import { WxstreamError } from '@wxstream/protocol';

export interface ListPosition {
  readonly updatedAt: number;
  readonly id: string;
}

export function encodeListCursor(position: ListPosition): string {
  return Buffer.from(JSON.stringify([position.updatedAt, position.id]), 'utf8').toString('base64url');
}

export function decodeListCursor(cursor: string): ListPosition {
  const invalid = () => new WxstreamError('invalid_request', 'cursor is not one this server issued');
  if (!/^[A-Za-z0-9_-]{1,512}$/.test(cursor)) throw invalid();
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (!Array.isArray(value) || value.length !== 2) throw invalid();
  const [updatedAt, id] = value as unknown[];
  if (typeof updatedAt !== 'number' || !Number.isSafeInteger(updatedAt) || typeof id !== 'string' || id === '') throw invalid();
  return { updatedAt, id };
}
