/**
 * Byte strings for decoder tests: hand-picked valid and malformed sequences, a biased random generator,
 * and ways to cut a byte string into chunks.
 */
import type { SeededRandom } from './seeded-random.ts';

const encoder = new TextEncoder();

export const utf8 = (text: string): Uint8Array => encoder.encode(text);
export const bytesOf = (...values: number[]): Uint8Array => Uint8Array.from(values);
export const join = (...parts: Uint8Array[]): Uint8Array => {
  const joined = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.length;
  }
  return joined;
};

const BOM = bytesOf(0xef, 0xbb, 0xbf);

/** Hand-picked sequences: every class of valid and malformed input the spec distinguishes. */
export const HAND_PICKED: ReadonlyArray<{ name: string; bytes: Uint8Array }> = [
  { name: 'ASCII text', bytes: utf8('Hello, wx!') },
  { name: '2-byte characters', bytes: utf8('ñé ßΩЖ') },
  { name: '3-byte CJK text', bytes: utf8('你好，世界。') },
  { name: '4-byte emoji between CJK', bytes: utf8('好😀的') },
  { name: 'an emoji ZWJ family sequence', bytes: utf8('👨‍👩‍👧') },
  { name: 'a flag and a skin-tone modifier', bytes: utf8('🇨🇳👍🏽') },
  { name: 'code point boundaries U+0080 U+07FF U+0800 U+FFFF', bytes: utf8('\u0080\u07ff\u0800\uffff') },
  { name: 'code point boundaries U+D7FF U+E000 U+10000 U+10FFFF', bytes: utf8('\ud7ff\ue000\u{10000}\u{10ffff}') },
  { name: 'a BOM at the start', bytes: join(BOM, utf8('你好')) },
  { name: 'a BOM at the start then another BOM', bytes: join(BOM, BOM, utf8('A')) },
  { name: 'a BOM in the middle', bytes: join(utf8('你'), BOM, utf8('好')) },
  { name: 'a BOM right after a CJK character', bytes: join(utf8('你'), BOM) },
  { name: 'a BOM right after an emoji', bytes: join(utf8('😀'), BOM, utf8('x')) },
  { name: 'only a BOM', bytes: BOM },
  { name: 'a lone continuation byte', bytes: bytesOf(0x41, 0x80, 0x42) },
  { name: 'several continuation bytes in a row', bytes: bytesOf(0x80, 0xbf, 0x9f, 0x41) },
  { name: 'C0 and C1 (always overlong)', bytes: bytesOf(0xc0, 0xaf, 0xc1, 0xbf, 0x41) },
  { name: 'an overlong 3-byte form (E0 80–9F)', bytes: bytesOf(0xe0, 0x80, 0xaf, 0xe0, 0x9f, 0xbf) },
  { name: 'an overlong 4-byte form (F0 80–8F)', bytes: bytesOf(0xf0, 0x80, 0x80, 0xaf, 0xf0, 0x8f, 0xbf, 0xbf) },
  { name: 'encoded surrogates (ED A0–BF)', bytes: bytesOf(0xed, 0xa0, 0x80, 0xed, 0xbf, 0xbf, 0xed, 0x9f, 0xbf) },
  { name: 'a code point above U+10FFFF (F4 90)', bytes: bytesOf(0xf4, 0x90, 0x80, 0x80, 0xf4, 0x8f, 0xbf, 0xbf) },
  { name: 'bytes F5–FF', bytes: bytesOf(0xf5, 0x80, 0xf8, 0x88, 0x80, 0x80, 0x80, 0xfe, 0xff) },
  { name: 'a 3-byte sequence interrupted by ASCII', bytes: bytesOf(0xe4, 0xbd, 0x41, 0xe4, 0x42) },
  { name: 'a 4-byte sequence interrupted by a lead byte', bytes: bytesOf(0xf0, 0x9f, 0x98, 0xe4, 0xbd, 0xa0) },
  { name: 'a 2-byte lead followed by another lead', bytes: bytesOf(0xc3, 0xc3, 0xa9) },
  { name: 'a truncated 2-byte tail', bytes: bytesOf(0x41, 0xc3) },
  { name: 'a truncated 3-byte tail', bytes: join(utf8('你'), bytesOf(0xe5, 0xa5)) },
  { name: 'a truncated 4-byte tail', bytes: join(utf8('ok'), bytesOf(0xf0, 0x9f, 0x98)) },
  { name: 'a truncated BOM', bytes: bytesOf(0xef, 0xbb) },
  { name: 'a truncated sequence then a BOM', bytes: join(bytesOf(0xe4), BOM, utf8('a')) },
  { name: 'a malformed start then a BOM', bytes: join(bytesOf(0xe4, 0xff), BOM) },
  { name: 'an empty string', bytes: new Uint8Array(0) },
];

/** Every way to cut `bytes` into two chunks (a cut at 0 or at the end leaves an empty chunk). */
export function* twoWaySplits(bytes: Uint8Array): Generator<Uint8Array[]> {
  for (let cut = 0; cut <= bytes.length; cut++) yield [bytes.subarray(0, cut), bytes.subarray(cut)];
}

/** Every way to cut `bytes` into three chunks, empty chunks included. */
export function* threeWaySplits(bytes: Uint8Array): Generator<Uint8Array[]> {
  for (let first = 0; first <= bytes.length; first++) {
    for (let second = first; second <= bytes.length; second++) {
      yield [bytes.subarray(0, first), bytes.subarray(first, second), bytes.subarray(second)];
    }
  }
}

/** Cuts into chunks of random sizes 0…maxChunk (empty chunks included, as a transport may deliver them). */
export function randomChunks(bytes: Uint8Array, random: SeededRandom, maxChunk: number): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const size = random.int(maxChunk + 1);
    chunks.push(bytes.subarray(offset, offset + size));
    offset += size;
  }
  if (chunks.length === 0 || random.chance(0.2)) chunks.push(new Uint8Array(0));
  return chunks;
}

const BOUNDARY_BYTES = [
  0x00, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbb, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe1, 0xec, 0xed, 0xee, 0xef,
  0xf0, 0xf1, 0xf3, 0xf4, 0xf5, 0xf7, 0xf8, 0xfe, 0xff,
];
const VALID_SAMPLES = [
  'a', ' ', '\n', '~', 'é', 'ß', 'Ж', '\u0080', '\u07ff', '\u0800', '你', '好', '。', '\ud7ff', '\ue000', '\ufeff',
  '\uffff', '😀', '🚀', '\u{10000}', '\u{10ffff}', '👨‍👩‍👧', '🇨🇳',
].map(utf8);

/**
 * A byte string biased towards what breaks decoders: valid characters of every length (including
 * U+FEFF), their truncated prefixes, boundary bytes around every range the spec checks, and random bytes.
 */
export function randomUtf8ish(random: SeededRandom, maxPieces: number): Uint8Array {
  const pieces: Uint8Array[] = [];
  if (random.chance(0.15)) pieces.push(BOM);
  for (let count = random.int(maxPieces + 1); count > 0; count--) {
    const roll = random.next();
    if (roll < 0.45) pieces.push(random.pick(VALID_SAMPLES));
    else if (roll < 0.6) {
      const valid = random.pick(VALID_SAMPLES);
      pieces.push(valid.subarray(0, random.int(valid.length)));
    } else if (roll < 0.85) pieces.push(bytesOf(random.pick(BOUNDARY_BYTES)));
    else pieces.push(bytesOf(random.int(256)));
  }
  return join(...pieces);
}
