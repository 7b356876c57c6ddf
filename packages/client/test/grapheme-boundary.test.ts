import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GRAPHEME_UNICODE_VERSION, safeBoundary } from '../src/grapheme-boundary.ts';
import { createSeededRandom, testSeed } from './support/seeded-random.ts';

// The oracle: ICU's segmenter in Node. The module must not use it at run time, tests may.
const segmenter = new Intl.Segmenter('en', { granularity: 'grapheme' });

/** For every position 0..length, the largest grapheme boundary at or before it, per the oracle. */
function oracleFloors(text: string): Int32Array {
  const starts = Array.from(segmenter.segment(text), (segment) => segment.index);
  starts.push(text.length);
  const floors = new Int32Array(text.length + 1);
  let s = 0;
  for (let i = 0; i <= text.length; i++) {
    while (s + 1 < starts.length && (starts[s + 1] as number) <= i) s++;
    floors[i] = starts[s] as number;
  }
  return floors;
}

function assertMatchesOracle(text: string, label: string): void {
  const floors = oracleFloors(text);
  for (let i = 0; i <= text.length; i++) {
    const got = safeBoundary(text, i);
    if (got !== floors[i]) {
      const units = [...text].map((ch) => (ch.codePointAt(0) as number).toString(16)).join(' ');
      assert.fail(`${label}: safeBoundary(text, ${i}) = ${got}, expected ${floors[i]} for [${units}]`);
    }
  }
}

const SEQUENCES: Record<string, string> = {
  family: '👨‍👩‍👧‍👦',
  technologistWithSkinTone: '👩🏽‍💻',
  rainbowFlag: '🏳️‍🌈',
  heartOnFire: '❤️‍🔥',
  holdingHands: '🧑‍🤝‍🧑',
  eyeInSpeechBubble: '👁️‍🗨️',
  thumbsDarkSkin: '👍🏿',
  victoryEmojiStyle: '✌️',
  smileyTextStyle: '☺︎',
  keycapOne: '1️⃣',
  keycapHash: '#️⃣',
  flagChina: '🇨🇳',
  twoFlags: '🇺🇸🇯🇵',
  flagThenLoneIndicator: '🇨🇳🇺',
  tagFlagEngland: '🏴󠁧󠁢󠁥󠁮󠁧󠁿',
  combiningAcute: 'e\u0301',
  stackedMarks: 'e\u0323\u0302',
  zalgo: 'Z\u0337\u0321\u0322\u034e\u0344',
  crlf: 'a\r\nb',
  devanagariConjunct: 'क्ष',
  devanagariWord: 'नमस्ते',
  devanagariConjunctWithZwj: 'क्\u200dष',
  thai: 'ภาษาไทย',
  thaiSaraAm: 'กำ',
  hangulJamo: '\u1100\u1161\u11a8',
  hangulSyllables: '한국어',
  japaneseVoicedMark: 'か\u3099',
  arabicPrepend: '\u0600\u0661\u0662',
  chinese: '中文，你好！',
  ascii: 'Hello, world.',
  zeroWidthSpace: 'a\u200bb',
  surrogatePairPlain: '𠀀𠀁',
  zwjAfterLetter: 'a\u200db',
};

test('safeBoundary agrees with Intl.Segmenter at every index of every listed sequence', () => {
  for (const [name, sequence] of Object.entries(SEQUENCES)) {
    assertMatchesOracle(sequence, name);
    assertMatchesOracle(`前${sequence}后`, `${name} between CJK`);
    assertMatchesOracle(`${sequence}${sequence}`, `${name} twice`);
  }
});

test('safeBoundary agrees with Intl.Segmenter on random mixes of the sequences at every index', () => {
  const random = createSeededRandom(testSeed(0x5eed_6b));
  const parts = Object.values(SEQUENCES);
  for (let round = 0; round < 400; round++) {
    let text = '';
    const count = random.range(1, 12);
    for (let n = 0; n < count; n++) text += random.pick(parts);
    assertMatchesOracle(text, `seed ${random.seed} round ${round}`);
  }
});

test('a cut never leaves a joiner, modifier, selector, tag or mark already received at the start of the hidden part', () => {
  const joiners = /^[\u200d\ufe0f\ufe0e\u20e3\u{1f3fb}-\u{1f3ff}\u{e0020}-\u{e007f}\p{M}]/u;
  for (const [name, sequence] of Object.entries(SEQUENCES)) {
    const text = `字${sequence}字`;
    // Every prefix stands for the buffer at some moment of a stream that is still growing.
    for (let length = 0; length <= text.length; length++) {
      const buffer = text.slice(0, length);
      for (let i = 0; i <= length; i++) {
        const cut = safeBoundary(buffer, i);
        assert.ok(cut <= i, `${name}: cut ${cut} beyond ${i}`);
        const hidden = buffer.slice(cut);
        assert.ok(!joiners.test(hidden), `${name}: cut ${cut} of ${length} puts ${hidden.codePointAt(0)?.toString(16)} first`);
        const unit = buffer.charCodeAt(cut);
        assert.ok(!(unit >= 0xdc00 && unit <= 0xdfff && cut > 0), `${name}: cut ${cut} splits a surrogate pair`);
      }
    }
  }
});

test('safeBoundary keeps the whole family emoji together and cuts only before or after it', () => {
  const text = 'A👨‍👩‍👧‍👦B';
  const familyEnd = 1 + '👨‍👩‍👧‍👦'.length;
  for (let i = 1; i < familyEnd; i++) assert.equal(safeBoundary(text, i), 1, `index ${i}`);
  assert.equal(safeBoundary(text, familyEnd), familyEnd);
});

test('safeBoundary pairs regional indicators from the start of their run', () => {
  const flags = '🇨🇳🇺🇸🇯🇵';
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12].map((i) => safeBoundary(flags, i)),
    [0, 0, 0, 0, 4, 4, 4, 4, 8, 8, 8, 8, 12],
  );
});

test('safeBoundary clamps out-of-range and fractional indexes', () => {
  assert.equal(safeBoundary('abc', -5), 0);
  assert.equal(safeBoundary('abc', Number.NaN), 0);
  assert.equal(safeBoundary('abc', 99), 3);
  assert.equal(safeBoundary('abc', 1.9), 1);
  assert.equal(safeBoundary('', 0), 0);
  assert.equal(safeBoundary('e\u0301', 2.5), 2);
});

test('the end of a still-growing buffer is a valid cut even right after an emoji that may gain a joiner', () => {
  assert.equal(safeBoundary('好👨', 3), 3);
  assert.equal(safeBoundary('好🇨', 3), 3);
});

/*
 * Every code point of planes 0, 1 and 14 (where all marks, joiners, emoji and controls live; planes 2
 * and 3 hold only ideographs) in five contexts: after a letter, a conjunct linker, an emoji ZWJ, a
 * Hangul leading consonant and a lone regional indicator — and, since each is followed by the next
 * context, before them too. That exercises every class of the table against the runtime's Unicode data.
 */
const runtimeUnicode = process.versions.unicode;
const sameUnicode = runtimeUnicode === GRAPHEME_UNICODE_VERSION;

test(
  'the break table agrees with this runtime\'s Unicode data for every code point of planes 0, 1 and 14',
  { skip: sameUnicode ? false : `runtime has Unicode ${runtimeUnicode}, the table encodes ${GRAPHEME_UNICODE_VERSION}` },
  () => {
    const contexts = ['a', 'क्', '👨\u200d', '\u1100', '🇨'];
    for (const context of contexts) {
      const pieces: string[] = [];
      for (let cp = 0; cp <= 0x1ffff; cp++) {
        if (cp >= 0xd800 && cp <= 0xdfff) continue;
        pieces.push(context, String.fromCodePoint(cp));
      }
      for (let cp = 0xe0000; cp <= 0xe0fff; cp++) pieces.push(context, String.fromCodePoint(cp));
      pieces.push(context);
      const text = pieces.join('');
      const floors = oracleFloors(text);
      for (let i = 0; i <= text.length; i++) {
        if (safeBoundary(text, i) !== floors[i]) {
          const around = [...text.slice(Math.max(0, i - 4), i + 4)].map((ch) => (ch.codePointAt(0) as number).toString(16));
          assert.fail(`context ${JSON.stringify(context)}: index ${i} gave ${safeBoundary(text, i)}, expected ${floors[i]} near [${around.join(' ')}]`);
        }
      }
    }
  },
);
