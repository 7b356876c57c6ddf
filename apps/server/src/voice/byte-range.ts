/**
 * Reads an HTTP `Range` header against a resource of known size (RFC 9110 §14).
 *
 * Contract: `byteRange(header, size)` is `{ kind: 'full' }` when there is no header or it is to be
 * ignored — not `bytes`, malformed, or several ranges (a server may always answer 200 with the
 * whole body, and audio players ask for one range) — `{ kind: 'partial', start, end }` (inclusive,
 * `end` clamped to the last byte) for one satisfiable range, including open (`500-`) and suffix
 * (`-500`) forms, and `{ kind: 'unsatisfiable' }` when the range starts at or past the end (or is
 * an empty suffix), which is answered 416.
 */

export type ByteRange =
  | { readonly kind: 'full' }
  | { readonly kind: 'partial'; readonly start: number; readonly end: number }
  | { readonly kind: 'unsatisfiable' };

const SINGLE_RANGE = /^bytes[ \t]*=[ \t]*(\d*)[ \t]*-[ \t]*(\d*)[ \t]*$/i;

export function byteRange(header: string | undefined, size: number): ByteRange {
  if (header === undefined || header.trim() === '') return { kind: 'full' };
  const match = SINGLE_RANGE.exec(header.trim());
  if (match === null) return { kind: 'full' };
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return { kind: 'full' };
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? Number.MAX_SAFE_INTEGER : Number(last);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || end < start) return { kind: 'full' };
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'partial', start, end: Math.min(end, size - 1) };
}
