/**
 * The opaque cursors of keyset pagination: the conversation list's (updatedAt, id) of the last item
 * of a page, and a conversation's message pages' (turn, seq) of the oldest message of a page.
 *
 * Contract: pure. `encode…` gives a URL-safe string (base64url of a JSON pair) that clients pass back
 * untouched; `decode…` accepts exactly what its `encode…` makes and rejects anything else with
 * `invalid_request`, so a tampered cursor never reaches a query. The position is a key, not an
 * offset, so it stays meaningful when rows are added or deleted.
 */
import { WxstreamError } from '@wxstream/protocol';

export interface ListPosition {
  readonly updatedAt: number;
  readonly id: string;
}

/** A message's place in its conversation: turn order, then insertion order within the turn. */
export interface MessagePosition {
  readonly turn: number;
  readonly seq: number;
}

function encodePair(first: number, second: number | string): string {
  return Buffer.from(JSON.stringify([first, second]), 'utf8').toString('base64url');
}

/** The two values of a cursor this module made, or `invalid_request`. */
function decodePair(cursor: string, name: string): [number, unknown] {
  const invalid = () => new WxstreamError('invalid_request', `${name} is not a cursor this server issued`);
  if (!/^[A-Za-z0-9_-]{1,512}$/.test(cursor)) throw invalid();
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (!Array.isArray(value) || value.length !== 2) throw invalid();
  const [first, second] = value as unknown[];
  if (typeof first !== 'number' || !Number.isSafeInteger(first)) throw invalid();
  return [first, second];
}

export function encodeListCursor(position: ListPosition): string {
  return encodePair(position.updatedAt, position.id);
}

export function decodeListCursor(cursor: string): ListPosition {
  const [updatedAt, id] = decodePair(cursor, 'cursor');
  if (typeof id !== 'string' || id === '') throw new WxstreamError('invalid_request', 'cursor is not a cursor this server issued');
  return { updatedAt, id };
}

export function encodeMessageCursor(position: MessagePosition): string {
  return encodePair(position.turn, position.seq);
}

export function decodeMessageCursor(cursor: string): MessagePosition {
  const [turn, seq] = decodePair(cursor, 'before');
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || turn < 0 || seq < 1) {
    throw new WxstreamError('invalid_request', 'before is not a cursor this server issued');
  }
  return { turn, seq };
}
