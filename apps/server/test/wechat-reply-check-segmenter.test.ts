import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  DEFAULT_MIN_SEGMENT_CHARS,
  MSG_SEC_CHECK_MAX_CHARS,
  ReplyCheckSegmenter,
  splitForCheck,
  type ReplyCheckSegmenterOptions,
} from '../src/wechat/reply-check-segmenter.ts';

function segmentAll(text: string, options?: ReplyCheckSegmenterOptions): string[] {
  const segmenter = new ReplyCheckSegmenter(options);
  return [...segmenter.push(text), ...segmenter.flush()];
}

function segmentDeltas(deltas: readonly string[], options?: ReplyCheckSegmenterOptions): string[] {
  const segmenter = new ReplyCheckSegmenter(options);
  const segments: string[] = [];
  for (const delta of deltas) segments.push(...segmenter.push(delta));
  segments.push(...segmenter.flush());
  return segments;
}

/** mulberry32: a small seeded generator, so a failing case can be replayed from its seed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = [
  '你', '好', '天', '气', 'a', 'b', 'x', '1', '3', // text
  '。', '！', '？', '；', '…', // Chinese terminators
  '.', '!', '?', // Latin terminators
  '”', '」', '）', '"', ')', // closers
  ' ', ' ', '\u3000', '\t', // spaces
  '\n', '\r\n', '\n\n', // line breaks
  '😀', '𠀀', // surrogate pairs
];

function randomText(next: () => number, maxLength: number): string {
  const length = Math.floor(next() * maxLength);
  let text = '';
  while (text.length < length) text += PIECES[Math.floor(next() * PIECES.length)];
  return text;
}

/** Splits anywhere, including between the halves of a surrogate pair. */
function randomDeltas(next: () => number, text: string): string[] {
  const deltas: string[] = [];
  let at = 0;
  while (at < text.length) {
    const size = next() < 0.2 ? 0 : 1 + Math.floor(next() * 6);
    deltas.push(text.slice(at, at + size));
    at += size;
  }
  return deltas;
}

// The reference: the boundary rules written as runs over the whole text rather than as a
// character-by-character state machine.
const STRONG = '。！？；…';
const WEAK = '.!?';
const CLOSING = '"\'”’」』）)】》〉]〕';
const BREAKS = '\n\r\u2028\u2029';
const WHITESPACE = ` \t\f\v\u00a0\u3000${BREAKS}`;

function referenceBoundaries(text: string): number[] {
  const boundaries: number[] = [];
  const at = (i: number) => text.charAt(i);
  let i = 0;
  while (i < text.length) {
    const c = at(i);
    if (STRONG.includes(c) || WEAK.includes(c)) {
      let runEnd = i;
      let strong = false;
      while (runEnd < text.length && (STRONG.includes(at(runEnd)) || WEAK.includes(at(runEnd)) || CLOSING.includes(at(runEnd)))) {
        if (STRONG.includes(at(runEnd))) strong = true;
        runEnd++;
      }
      let spaceEnd = runEnd;
      while (spaceEnd < text.length && WHITESPACE.includes(at(spaceEnd))) spaceEnd++;
      const isBoundary = strong || spaceEnd > runEnd;
      if (isBoundary && spaceEnd < text.length) boundaries.push(spaceEnd);
      i = isBoundary ? spaceEnd : runEnd;
    } else if (BREAKS.includes(c)) {
      let spaceEnd = i;
      while (spaceEnd < text.length && WHITESPACE.includes(at(spaceEnd))) spaceEnd++;
      if (spaceEnd < text.length) boundaries.push(spaceEnd);
      i = spaceEnd;
    } else {
      i++;
    }
  }
  return boundaries;
}

function referenceSegments(text: string, minChars: number, maxChars: number): string[] {
  const boundaries = referenceBoundaries(text);
  const segments: string[] = [];
  let start = 0;
  while (start < text.length) {
    const reachable = boundaries.filter((b) => b > start && b <= start + maxChars);
    const preferred = reachable.find((b) => b - start >= minChars);
    let end: number;
    if (preferred !== undefined) end = preferred;
    else if (text.length - start <= maxChars) end = text.length;
    else if (reachable.length > 0) end = reachable.at(-1) ?? start + maxChars;
    else {
      end = start + maxChars;
      const high = text.charCodeAt(end - 1);
      const low = text.charCodeAt(end);
      if (high >= 0xd800 && high <= 0xdbff && low >= 0xdc00 && low <= 0xdfff) end -= 1;
    }
    segments.push(text.slice(start, end));
    start = end;
  }
  return segments;
}

describe('reply check segmenter: examples', () => {
  test('Chinese sentences end at 。！？ when every boundary may end a segment', () => {
    assert.deepEqual(segmentAll('你好。今天天气很好！你呢？', { minChars: 0 }), ['你好。', '今天天气很好！', '你呢？']);
  });

  test('closing quotes and repeated terminators stay with their sentence', () => {
    assert.deepEqual(segmentAll('他说：“好。”然后走了……真的吗？！是的', { minChars: 0 }), ['他说：“好。”', '然后走了……', '真的吗？！', '是的']);
  });

  test('a semicolon ends a clause and the whitespace after a terminator stays with it', () => {
    assert.deepEqual(segmentAll('第一；第二。 第三', { minChars: 0 }), ['第一；', '第二。 ', '第三']);
  });

  test('Latin .!? end a sentence only before whitespace, so decimals and domains do not', () => {
    assert.deepEqual(segmentAll('Pi is 3.14. See example.com!  Yes?No', { minChars: 0 }), ['Pi is 3.14. ', 'See example.com!  ', 'Yes?No']);
  });

  test('line breaks end a paragraph together with the blank lines after them', () => {
    assert.deepEqual(segmentAll('First line\n\nSecond line\r\nThird', { minChars: 0 }), ['First line\n\n', 'Second line\r\n', 'Third']);
  });

  test('a boundary waits for the character after it, since a closing quote may still follow', () => {
    const segmenter = new ReplyCheckSegmenter({ minChars: 0 });
    assert.deepEqual(segmenter.push('好。'), []);
    assert.deepEqual(segmenter.push('」'), []);
    assert.deepEqual(segmenter.push('下'), ['好。」']);
    assert.deepEqual(segmenter.flush(), ['下']);
  });

  test('a segment ends at the first boundary at least minChars into it', () => {
    assert.deepEqual(segmentAll('一。二。三四五六。七。八', { minChars: 4, maxChars: 100 }), ['一。二。', '三四五六。', '七。八']);
  });

  test('without a boundary past minChars, the segment ends at the last boundary within maxChars', () => {
    assert.deepEqual(segmentAll('ab。cd。efghijklmnop', { minChars: 8, maxChars: 10 }), ['ab。cd。', 'efghijklmn', 'op']);
  });

  test('text without boundaries is cut hard at maxChars', () => {
    assert.deepEqual(segmentAll('x'.repeat(25), { maxChars: 10 }).map((s) => s.length), [10, 10, 5]);
  });

  test('a hard cut never splits a surrogate pair', () => {
    assert.deepEqual(segmentAll('abc😀defgh', { maxChars: 4, minChars: 4 }), ['abc', '😀de', 'fgh']);
  });

  test('the defaults are the msgSecCheck limit and a minimum of 200 characters', () => {
    const text = '这是一个测试句子。'.repeat(400);
    const segments = segmentAll(text);
    assert.equal(segments.join(''), text);
    assert.ok(segments.every((s) => s.length <= MSG_SEC_CHECK_MAX_CHARS));
    assert.ok(segments.slice(0, -1).every((s) => s.length >= DEFAULT_MIN_SEGMENT_CHARS && s.length < DEFAULT_MIN_SEGMENT_CHARS + 9));
  });

  test('splitForCheck makes as few pieces as boundaries allow, each ending at the last boundary within the limit', () => {
    const sentence = '这是用来测试分段的一句话。';
    const text = sentence.repeat(500);
    const pieces = splitForCheck(text);
    assert.equal(pieces.join(''), text);
    assert.equal(pieces.length, Math.ceil(text.length / (Math.floor(MSG_SEC_CHECK_MAX_CHARS / sentence.length) * sentence.length)));
    assert.ok(pieces.slice(0, -1).every((piece) => piece.length > MSG_SEC_CHECK_MAX_CHARS - sentence.length && piece.endsWith('。')));
    assert.deepEqual(splitForCheck('短文本'), ['短文本']);
    assert.deepEqual(splitForCheck(''), []);
  });

  test('pushing after flush is a programming error; flushing twice yields nothing more', () => {
    const segmenter = new ReplyCheckSegmenter();
    segmenter.push('abc');
    assert.deepEqual(segmenter.flush(), ['abc']);
    assert.deepEqual(segmenter.flush(), []);
    assert.throws(() => segmenter.push('more'), /push after flush/);
  });

  test('options outside their ranges are refused', () => {
    assert.throws(() => new ReplyCheckSegmenter({ maxChars: 1 }), RangeError);
    assert.throws(() => new ReplyCheckSegmenter({ maxChars: 10, minChars: 11 }), RangeError);
    assert.throws(() => new ReplyCheckSegmenter({ minChars: -1 }), RangeError);
    assert.throws(() => new ReplyCheckSegmenter({ maxChars: 2.5 }), RangeError);
  });
});

describe('reply check segmenter: properties over random texts and deltas', () => {
  const RUNS = 600;

  test('any split into deltas gives the same segments as the whole text at once', () => {
    for (let seed = 1; seed <= RUNS; seed++) {
      const next = random(seed);
      const maxChars = 2 + Math.floor(next() * 30);
      const minChars = Math.floor(next() * (maxChars + 1));
      const text = randomText(next, 160);
      const whole = segmentAll(text, { maxChars, minChars });
      for (let split = 0; split < 3; split++) {
        assert.deepEqual(segmentDeltas(randomDeltas(next, text), { maxChars, minChars }), whole, `seed ${seed}`);
      }
    }
  });

  test('segments join to the input, none exceeds maxChars, and none splits a surrogate pair', () => {
    for (let seed = 1; seed <= RUNS; seed++) {
      const next = random(seed * 7919);
      const maxChars = 2 + Math.floor(next() * 30);
      const minChars = Math.floor(next() * (maxChars + 1));
      const text = randomText(next, 160);
      const segments = segmentDeltas(randomDeltas(next, text), { maxChars, minChars });
      assert.equal(segments.join(''), text, `seed ${seed}`);
      for (const segment of segments) {
        assert.ok(segment.length > 0 && segment.length <= maxChars, `seed ${seed}: segment of ${segment.length}`);
      }
      let offset = 0;
      for (const segment of segments.slice(0, -1)) {
        offset += segment.length;
        const high = text.charCodeAt(offset - 1);
        const low = text.charCodeAt(offset);
        assert.ok(!(high >= 0xd800 && high <= 0xdbff && low >= 0xdc00 && low <= 0xdfff), `seed ${seed}: pair split at ${offset}`);
      }
    }
  });

  test('segments match the reference model of the boundary rules', () => {
    for (let seed = 1; seed <= RUNS; seed++) {
      const next = random(seed * 104729);
      const maxChars = 2 + Math.floor(next() * 30);
      const minChars = Math.floor(next() * (maxChars + 1));
      const text = randomText(next, 160);
      assert.deepEqual(segmentDeltas(randomDeltas(next, text), { maxChars, minChars }), referenceSegments(text, minChars, maxChars), `seed ${seed}`);
    }
  });

  test('long replies with the default limits match the reference and arrive the same in any deltas', () => {
    for (let seed = 1; seed <= 8; seed++) {
      const next = random(seed * 31337);
      const text = randomText(next, 8000);
      const segments = segmentDeltas(randomDeltas(next, text));
      assert.deepEqual(segments, referenceSegments(text, DEFAULT_MIN_SEGMENT_CHARS, MSG_SEC_CHECK_MAX_CHARS), `seed ${seed}`);
      assert.deepEqual(segments, segmentAll(text), `seed ${seed}`);
    }
  });
});
