/**
 * Utf8StreamDecoder behaviours, one at a time: carry-over across chunks, the spec's U+FFFD rules, BOM
 * handling, flushing, input types, reuse and large inputs. Expected strings come from the Encoding
 * Standard; each is also checked against Node's whole-string TextDecoder where that applies.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Utf8StreamDecoder } from '../src/utf8-stream-decoder.ts';
import { assertDecodesLikeSpec, decodeInCalls } from './support/decoder-check.ts';
import { createSeededRandom } from './support/seeded-random.ts';
import { decodeWhole, isNodeStreamBomBug } from './support/utf8-reference.ts';
import { bytesOf, join, randomUtf8ish, utf8 } from './support/utf8-samples.ts';

const BOM = bytesOf(0xef, 0xbb, 0xbf);
const STREAM = { stream: true };

describe('characters split across chunks', () => {
  test('decoder splits a 4-byte emoji across three chunks', () => {
    const decoder = new Utf8StreamDecoder();
    assert.equal(decoder.decode(bytesOf(0xf0, 0x9f), STREAM), '');
    assert.equal(decoder.decode(bytesOf(0x98), STREAM), '');
    assert.equal(decoder.decode(bytesOf(0x80), STREAM), '😀');
    assert.equal(decoder.decode(), '');
  });

  test('decoder completes a CJK character cut after its lead byte and emits what follows in the same call', () => {
    const decoder = new Utf8StreamDecoder();
    assert.equal(decoder.decode(join(utf8('你'), bytesOf(0xe5)), STREAM), '你');
    assert.equal(decoder.decode(join(bytesOf(0xa5, 0xbd), utf8('!')), STREAM), '好!');
  });

  test('decoder returns an empty string for an empty chunk and keeps the carried bytes', () => {
    const decoder = new Utf8StreamDecoder();
    assert.equal(decoder.decode(bytesOf(0xe4, 0xbd), STREAM), '');
    assert.equal(decoder.decode(new Uint8Array(0), STREAM), '');
    assert.equal(decoder.decode(bytesOf(0xa0), STREAM), '你');
  });

  test('decoder keeps an emoji ZWJ sequence intact when every byte arrives on its own', () => {
    const family = utf8('👨‍👩‍👧‍👦');
    const text = decodeInCalls(Array.from(family, (_byte, index) => family.subarray(index, index + 1))).join('');
    assert.equal(text, '👨‍👩‍👧‍👦');
  });
});

describe('malformed input becomes U+FFFD per maximal subpart', () => {
  const cases: ReadonlyArray<{ name: string; bytes: Uint8Array; expected: string }> = [
    { name: 'a lone continuation byte', bytes: bytesOf(0x41, 0x80, 0x42), expected: 'A\uFFFDB' },
    { name: 'C0 and C1 leads (overlong 2-byte forms)', bytes: bytesOf(0xc0, 0xaf, 0xc1, 0xbf), expected: '\uFFFD'.repeat(4) },
    { name: 'an overlong 3-byte form E0 80 AF', bytes: bytesOf(0xe0, 0x80, 0xaf), expected: '\uFFFD'.repeat(3) },
    { name: 'an overlong 4-byte form F0 8F BF BF', bytes: bytesOf(0xf0, 0x8f, 0xbf, 0xbf), expected: '\uFFFD'.repeat(4) },
    { name: 'an encoded surrogate ED A0 80', bytes: bytesOf(0xed, 0xa0, 0x80), expected: '\uFFFD'.repeat(3) },
    { name: 'a code point above U+10FFFF F4 90 80 80', bytes: bytesOf(0xf4, 0x90, 0x80, 0x80), expected: '\uFFFD'.repeat(4) },
    { name: 'bytes F5 and FF', bytes: bytesOf(0xf5, 0x80, 0xff), expected: '\uFFFD'.repeat(3) },
    { name: 'a 3-byte sequence cut by ASCII', bytes: bytesOf(0xe4, 0xbd, 0x41), expected: '\uFFFDA' },
    { name: 'a 4-byte sequence cut by ASCII', bytes: bytesOf(0xf0, 0x9f, 0x98, 0x41), expected: '\uFFFDA' },
    { name: 'a 4-byte sequence cut by a new lead', bytes: bytesOf(0xf0, 0x9f, 0xe4, 0xbd, 0xa0), expected: '\uFFFD你' },
    { name: 'the highest valid bounds E0 A0 80, ED 9F BF, F0 90 80 80, F4 8F BF BF', bytes: utf8('\u0800\ud7ff\u{10000}\u{10ffff}'), expected: '\u0800\ud7ff\u{10000}\u{10ffff}' },
  ];
  for (const { name, bytes, expected } of cases) {
    test(`decoder decodes ${name} as the spec says`, () => {
      assert.equal(new Utf8StreamDecoder().decode(bytes), expected);
      assert.equal(decodeWhole(bytes), expected, 'the expected string agrees with Node’s TextDecoder');
    });
  }

  test('decoder rejects an encoded surrogate at its second byte even when its bytes arrive in separate chunks', () => {
    // ED then A0 (outside ED's 80–9F): ED alone is replaced and A0 is looked at again as a lone continuation byte.
    assert.deepEqual(decodeInCalls([bytesOf(0xed), bytesOf(0xa0), bytesOf(0x80)]), ['', '\uFFFD\uFFFD', '\uFFFD', '']);
  });
});

describe('end of stream', () => {
  test('decoder flushes a truncated tail as one U+FFFD on the final call', () => {
    const decoder = new Utf8StreamDecoder();
    assert.equal(decoder.decode(join(utf8('ok'), bytesOf(0xf0, 0x9f, 0x98)), STREAM), 'ok');
    assert.equal(decoder.decode(), '\uFFFD');
  });

  test('decoder flushes a truncated tail given in the final call itself', () => {
    assert.equal(new Utf8StreamDecoder().decode(bytesOf(0x41, 0xe4, 0xbd)), 'A\uFFFD');
  });

  test('decode() with no input after a complete stream returns an empty string', () => {
    const decoder = new Utf8StreamDecoder();
    assert.equal(decoder.decode(utf8('完'), STREAM), '完');
    assert.equal(decoder.decode(), '');
  });

  test('decoder starts a fresh stream after a final call, dropping its BOM again', () => {
    const decoder = new Utf8StreamDecoder();
    assert.equal(decoder.decode(join(BOM, utf8('一'), bytesOf(0xe4))), '一\uFFFD');
    assert.equal(decoder.decode(join(BOM, utf8('二')), STREAM), '二');
    assert.equal(decoder.decode(bytesOf(0xe4, 0xb8, 0x89)), '三');
    assert.equal(decoder.decode(BOM), '');
  });
});

describe('byte order mark', () => {
  test('decoder drops a BOM at the start of the stream', () => {
    assert.equal(new Utf8StreamDecoder().decode(join(BOM, utf8('你好'))), '你好');
  });

  test('decoder drops a BOM split across three chunks at the start of the stream', () => {
    assert.deepEqual(decodeInCalls([bytesOf(0xef), bytesOf(0xbb), bytesOf(0xbf, 0x41)]), ['', '', 'A', '']);
  });

  test('decoder drops only the first of two BOMs at the start', () => {
    assert.equal(new Utf8StreamDecoder().decode(join(BOM, BOM)), '\uFEFF');
  });

  test('decoder keeps a U+FEFF in the middle of the stream', () => {
    assert.deepEqual(decodeInCalls([utf8('a'), BOM]), ['a', '\uFEFF', '']);
  });

  test('decoder keeps a U+FEFF that follows a U+FFFD at the start', () => {
    assert.equal(new Utf8StreamDecoder().decode(join(bytesOf(0xff), BOM)), '\uFFFD\uFEFF');
  });

  test('decoder does not drop a BOM that only appears after a stream-mode call produced text', () => {
    const decoder = new Utf8StreamDecoder();
    assert.equal(decoder.decode(utf8('x'), STREAM), 'x');
    assert.equal(decoder.decode(BOM, STREAM), '\uFEFF');
  });
});

// Node's TextDecoder (ICU path) drops a U+FEFF that follows a sequence completed across two `stream`
// calls when the stream has produced nothing before: [E4 BD] [A0 EF BB BF] gives "你" in Node, while
// the Encoding Standard (and Node itself on the whole string) gives "你\uFEFF". The spec wins.
describe('Node TextDecoder stream BOM bug: the spec behaviour is kept', () => {
  test('Node TextDecoder stream BOM bug: a U+FEFF after a CJK character completed across two calls is kept', () => {
    assert.deepEqual(decodeInCalls([bytesOf(0xe4, 0xbd), bytesOf(0xa0, 0xef, 0xbb, 0xbf)]), ['', '你\uFEFF', '']);
    assert.equal(decodeWhole(bytesOf(0xe4, 0xbd, 0xa0, 0xef, 0xbb, 0xbf)), '你\uFEFF');
  });

  test('Node TextDecoder stream BOM bug: a U+FEFF after an emoji completed across two calls is kept', () => {
    assert.deepEqual(decodeInCalls([bytesOf(0xf0, 0x9f), bytesOf(0x98, 0x80, 0xef, 0xbb, 0xbf)]), ['', '😀\uFEFF', '']);
  });

  test('Node TextDecoder stream BOM bug: a U+FEFF after a carried sequence that turned into U+FFFD is kept', () => {
    assert.deepEqual(decodeInCalls([bytesOf(0xe4), bytesOf(0xff, 0xef, 0xbb, 0xbf)]), ['', '\uFFFD\uFFFD\uFEFF', '']);
  });

  test('Node TextDecoder stream BOM bug: the test checker excuses only that exact deviation of the oracle', () => {
    const chunks = [bytesOf(0xe4, 0xbd), bytesOf(0xa0, 0xef, 0xbb, 0xbf)];
    const spec = ['', '你\uFEFF', ''];
    assert.equal(isNodeStreamBomBug(chunks, spec, ['', '你', ''], 1), true);
    assert.equal(isNodeStreamBomBug(chunks, spec, ['', '\uFEFF', ''], 1), false, 'a different character dropped');
    assert.equal(isNodeStreamBomBug([bytesOf(0xe4, 0xbd, 0xa0), bytesOf(0xef, 0xbb, 0xbf)], ['你', '\uFEFF', ''], ['你', '', ''], 1), false, 'no carried bytes');
    assert.equal(isNodeStreamBomBug([utf8('a'), bytesOf(0xe4, 0xbd), bytesOf(0xa0, 0xef, 0xbb, 0xbf)], ['a', '', '你\uFEFF', ''], ['a', '', '你', ''], 2), false, 'text produced before');
  });
});

describe('input types', () => {
  test('decoder reads a Uint8Array subarray from its byte offset only', () => {
    const backing = join(utf8('xx'), utf8('你好'), utf8('yy'));
    const view = backing.subarray(2, 8);
    assert.equal(view.byteOffset, 2);
    assert.equal(new Utf8StreamDecoder().decode(view), '你好');
  });

  test('decoder reads a DataView over part of a buffer', () => {
    const backing = join(utf8('--'), utf8('😀ok'), utf8('--'));
    const view = new DataView(backing.buffer, 2, backing.length - 4);
    assert.equal(new Utf8StreamDecoder().decode(view), '😀ok');
  });

  test('decoder reads an ArrayBuffer, as wx.request onChunkReceived delivers it', () => {
    const bytes = utf8('流式');
    const buffer = new ArrayBuffer(bytes.length);
    new Uint8Array(buffer).set(bytes);
    const decoder = new Utf8StreamDecoder();
    assert.equal(decoder.decode(buffer.slice(0, 4), STREAM), '流');
    assert.equal(decoder.decode(buffer.slice(4)), '式');
  });

  test('decoder reads other typed arrays by their bytes', () => {
    const bytes = utf8('abcd');
    assert.equal(new Utf8StreamDecoder().decode(new Uint16Array(bytes.buffer, bytes.byteOffset, 2)), 'abcd');
  });

  test('decoder rejects input that is not a buffer with a TypeError', () => {
    assert.throws(() => new Utf8StreamDecoder().decode([0x41] as unknown as Uint8Array), TypeError);
  });
});

describe('large inputs', () => {
  test('decoder decodes a 10 MB chunk of mixed text in one call without overflowing the stack', () => {
    const random = createSeededRandom(7);
    const piece = randomUtf8ish(random, 4000);
    const copies = Math.ceil(10_000_000 / piece.length);
    const bytes = new Uint8Array(piece.length * copies);
    for (let copy = 0; copy < copies; copy++) bytes.set(piece, copy * piece.length);
    const text = new Utf8StreamDecoder().decode(bytes);
    assert.ok(text === decodeWhole(bytes), 'a 10 MB decode equals the whole-string oracle');
  });

  test('decoder decodes a 10 MB ASCII chunk in one call', () => {
    const bytes = new Uint8Array(10_000_000).fill(0x61);
    const text = new Utf8StreamDecoder().decode(bytes);
    assert.equal(text.length, bytes.length);
    assert.ok(text === 'a'.repeat(bytes.length));
  });
});
