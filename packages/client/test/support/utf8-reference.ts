/**
 * A spec-correct reference for streaming UTF-8 decoding, built on Node's TextDecoder where it is right.
 *
 * Node's `TextDecoder` decodes a whole byte string (no `stream`) per the Encoding Standard, and that
 * result does not depend on chunking. Its `stream: true` mode has a known bug: it drops a U+FEFF that
 * follows a sequence carried over from an earlier call when the stream has produced nothing yet. So the
 * reference for each streaming call is derived from whole-string decodes instead:
 *
 * after a `stream` call that ends at byte `end`, a spec decoder has produced exactly
 * `decodeWhole(bytes[0 .. end - held])`, where `held` is the length of the incomplete sequence it
 * holds back at `end` (0–3 bytes, computed here from the spec's byte ranges); after the final call it
 * has produced `decodeWhole(bytes)`. Each call's output is the difference of consecutive totals.
 */

const wholeDecoder = new TextDecoder('utf-8');

export function decodeWhole(bytes: Uint8Array): string {
  return wholeDecoder.decode(bytes);
}

/** How many continuation bytes a lead byte announces, and the allowed range of the first of them. */
function leadInfo(lead: number): { continuations: number; lower: number; upper: number } | undefined {
  if (lead >= 0xc2 && lead <= 0xdf) return { continuations: 1, lower: 0x80, upper: 0xbf };
  if (lead === 0xe0) return { continuations: 2, lower: 0xa0, upper: 0xbf };
  if (lead === 0xed) return { continuations: 2, lower: 0x80, upper: 0x9f };
  if (lead >= 0xe1 && lead <= 0xef) return { continuations: 2, lower: 0x80, upper: 0xbf };
  if (lead === 0xf0) return { continuations: 3, lower: 0x90, upper: 0xbf };
  if (lead === 0xf4) return { continuations: 3, lower: 0x80, upper: 0x8f };
  if (lead >= 0xf1 && lead <= 0xf3) return { continuations: 3, lower: 0x80, upper: 0xbf };
  return undefined;
}

const isContinuation = (byte: number): boolean => byte >= 0x80 && byte <= 0xbf;

/**
 * Bytes a spec decoder holds back after consuming `bytes[0 .. end)` in stream mode. A byte that is not
 * a continuation byte is never consumed as part of an earlier sequence, so the open sequence (if any)
 * starts at the last such byte, at most 3 bytes from the end, and is open iff that byte is a lead byte,
 * every byte after it is accepted, and it still lacks continuation bytes.
 */
export function heldBackLength(bytes: Uint8Array, end: number): number {
  let start = end - 1;
  while (start >= 0 && end - start <= 3 && isContinuation(bytes[start]!)) start--;
  if (start < 0 || end - start > 3) return 0;
  const info = leadInfo(bytes[start]!);
  if (info === undefined) return 0;
  const taken = end - start - 1;
  if (taken >= info.continuations) return 0;
  if (taken >= 1) {
    const first = bytes[start + 1]!;
    if (first < info.lower || first > info.upper) return 0;
  }
  return end - start;
}

/** Concatenates chunks into one byte string. */
export function concatBytes(chunks: readonly Uint8Array[]): Uint8Array {
  const total = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
  const joined = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    joined.set(chunk, offset);
    offset += chunk.length;
  }
  return joined;
}

/**
 * What each call returns per the spec when `chunks` are decoded with `stream: true` and then a final
 * `decode()` without input (so the result has one more entry than `chunks`).
 */
export function referenceStreamOutputs(chunks: readonly Uint8Array[]): string[] {
  const bytes = concatBytes(chunks);
  const outputs: string[] = [];
  let produced = '';
  let end = 0;
  for (const chunk of chunks) {
    end += chunk.length;
    const total = decodeWhole(bytes.subarray(0, end - heldBackLength(bytes, end)));
    if (!total.startsWith(produced)) throw new Error('reference invariant broken: totals must only grow');
    outputs.push(total.slice(produced.length));
    produced = total;
  }
  const total = decodeWhole(bytes);
  outputs.push(total.slice(produced.length));
  return outputs;
}

/** What Node's own TextDecoder returns for the same calls (it has the BOM bug described above). */
export function nativeStreamOutputs(chunks: readonly Uint8Array[]): string[] {
  const decoder = new TextDecoder('utf-8');
  const outputs = chunks.map((chunk) => decoder.decode(chunk, { stream: true }));
  outputs.push(decoder.decode());
  return outputs;
}

/**
 * Whether a disagreement between Node's streaming output and the spec for call `index` is Node's known
 * BOM bug: nothing was produced earlier in the stream, the call began with carried-over bytes, and
 * Node's output is the spec output with its first U+FEFF removed.
 */
export function isNodeStreamBomBug(chunks: readonly Uint8Array[], spec: readonly string[], native: readonly string[], index: number): boolean {
  const specOutput = spec[index]!;
  const nativeOutput = native[index]!;
  if (spec.slice(0, index).join('') !== '') return false;
  const bytesBefore = concatBytes(chunks.slice(0, index));
  if (index === 0 || heldBackLength(bytesBefore, bytesBefore.length) === 0) return false;
  const bom = specOutput.indexOf('\uFEFF');
  return bom !== -1 && specOutput.slice(0, bom) + specOutput.slice(bom + 1) === nativeOutput;
}

export function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join(' ');
}

export function describeChunks(chunks: readonly Uint8Array[]): string {
  return chunks.map((chunk) => `[${hex(chunk)}]`).join(' ');
}

/** Visible form of a decoded string for failure messages: code points in hex. */
export function codePoints(text: string): string {
  return Array.from(text, (char) => `U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`).join(' ');
}
