/**
 * The bounds of `lexMarkdown` on hostile inline text, pinned by the work done rather than by a clock:
 * how much text marked is given (`InlineLexStats`), the shape of what renders, and that `splitInline`
 * still cuts exactly where it did before its search was bounded.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { renderMarkdown, type RichTextElement, type RichTextNode } from '../src/index.ts';
import {
  DENSE_INLINE_CHUNK,
  lexMarkdown,
  MAX_INLINE_CHUNK,
  MAX_INLINE_PUNCTUATION,
  splitInline,
  type InlineLexStats,
} from '../src/markdown/markdown-lexer.ts';
import { MARKDOWN_CORPUS } from './support/markdown-corpus.ts';
import { createSeededRandom, testSeed } from './support/seeded-random.ts';

const punctuation = (text: string): number => (text.match(/[!-/:-@[-`{-~]/g) ?? []).length;

function lexStats(text: string): InlineLexStats {
  const stats: InlineLexStats = { lexed: 0, keptAsText: 0 };
  lexMarkdown(text, stats);
  return stats;
}

/** One-line paragraphs of 100,000 characters, dense with what marked's inline rules start on. */
const DENSE_LINES: readonly { name: string; text: string }[] = [
  { name: '*a', text: '*a'.repeat(50_000) },
  { name: '**a', text: '**a'.repeat(33_334) },
  { name: '_a ', text: '_a '.repeat(33_334) },
  { name: '[', text: '['.repeat(100_000) },
  { name: '![', text: '!['.repeat(50_000) },
  { name: '[a](', text: '[a]('.repeat(25_000) },
  { name: 'backticks', text: '`a'.repeat(50_000) },
  { name: '~~a', text: '~~a'.repeat(33_334) },
  { name: '<a', text: '<a'.repeat(50_000) },
  { name: 'escapes', text: '\\*'.repeat(50_000) },
  { name: 'www.a ', text: 'www.a '.repeat(16_667) },
  { name: 'emails', text: 'a@b.co '.repeat(14_286) },
];

describe('lexMarkdown: a paragraph spends at most its punctuation budget on marked', () => {
  for (const { name, text } of DENSE_LINES) {
    test(`${name} × 100,000 characters: marked lexes a bounded prefix, the rest is kept as text`, () => {
      const stats = lexStats(text);
      assert.equal(stats.lexed + stats.keptAsText, text.length, 'every character is accounted for');
      // The budget is checked before each piece, so at most one piece (≤ MAX_INLINE_CHUNK) overshoots it.
      assert.ok(punctuation(text.slice(0, stats.lexed)) <= MAX_INLINE_PUNCTUATION + MAX_INLINE_CHUNK, `${punctuation(text.slice(0, stats.lexed))} punctuation lexed`);
      assert.ok(stats.lexed < text.length / 3, `${stats.lexed} of ${text.length} characters lexed`);
    });
  }

  test('the work grows with the budget, not with the line: 10× the line lexes the same prefix', () => {
    assert.equal(lexStats('*a'.repeat(500_000)).lexed, lexStats('*a'.repeat(50_000)).lexed);
    assert.equal(lexStats('['.repeat(1_000_000)).lexed, lexStats('['.repeat(100_000)).lexed);
  });

  test('each paragraph has its own budget, so a dense paragraph does not change the next one', () => {
    const next = 'then **bold** and [a link](https://a.example)';
    const nodes = renderMarkdown(`${'*a'.repeat(50_000)}\n\n${next}`);
    assert.deepEqual(nodes[1], renderMarkdown(next)[0]);
  });

  test('text without punctuation is lexed whole, however long', () => {
    const stats = lexStats('a'.repeat(100_000));
    assert.deepEqual(stats, { lexed: 100_000, keptAsText: 0 });
  });

  test('every corpus answer is lexed whole (its renders, pinned by the snapshot, are untouched by the budget)', () => {
    for (const { name, text } of MARKDOWN_CORPUS) assert.equal(lexStats(text).keptAsText, 0, name);
  });

  test('a long paragraph of ordinary Markdown well past any real answer is still lexed whole', () => {
    const sentence = 'Use **`npm ci`** in CI, *not* `npm install` — see [the docs](https://docs.npmjs.com/cli/ci) (v10). ';
    const paragraph = sentence.repeat(Math.floor(MAX_INLINE_PUNCTUATION / punctuation(sentence)));
    assert.ok(paragraph.length > 15_000, `${paragraph.length} characters`);
    assert.equal(lexStats(paragraph).keptAsText, 0);
  });
});

describe('renderMarkdown: what a dense line past its budget looks like', () => {
  test('*a × 50,000: emphasis for the lexed prefix, then the rest of the source as plain text', () => {
    const text = '*a'.repeat(50_000);
    const { lexed } = lexStats(text);
    const [p] = renderMarkdown(text) as RichTextElement[];
    const children = (p?.children ?? []) as RichTextNode[];
    const ems = children.filter((node): node is RichTextElement => !('type' in node));
    assert.equal(ems.length, lexed / 4, 'one em per `*a*a` lexed');
    for (const em of ems) assert.deepEqual(em.children, [{ type: 'text', text: 'a' }]);
    const last = children[children.length - 1];
    assert.ok(last && 'type' in last && last.text.endsWith(text.slice(lexed)), 'the unlexed rest is shown as written');
  });
});

/** splitInline as it was written before its newline/space search was bounded (`lastIndexOf` from the limit). */
function splitInlineReference(src: string, size: number): string[] {
  if (src.length <= size) return [src];
  const pieces: string[] = [];
  let start = 0;
  while (src.length - start > size) {
    const limit = start + size;
    let cut = src.lastIndexOf('\n', limit - 1) + 1;
    if (cut <= start + size / 2) cut = src.lastIndexOf(' ', limit - 1) + 1;
    if (cut <= start + size / 2) {
      cut = limit;
      const code = src.charCodeAt(cut - 1);
      if (code >= 0xd800 && code <= 0xdbff) cut -= 1;
    }
    pieces.push(src.slice(start, cut));
    start = cut;
  }
  pieces.push(src.slice(start));
  return pieces;
}

describe('splitInline: bounded search, same cuts', () => {
  test('cuts random texts of words, line breaks, markup and emoji exactly where the unbounded search did', () => {
    const seed = testSeed(20261209);
    const random = createSeededRandom(seed);
    const alphabet = ['a', 'b', '中', ' ', '\n', '*', '[', '`', '😀', 'word ', '**x** '];
    for (let round = 0; round < 200; round++) {
      const length = random.int(9_000);
      let text = '';
      while (text.length < length) text += random.pick(alphabet).repeat(1 + random.int(random.chance(0.1) ? 3_000 : 20));
      const size = (text.match(/[*_~`[\]<!]/g) ?? []).length > 256 ? DENSE_INLINE_CHUNK : MAX_INLINE_CHUNK;
      const expected = text.length <= DENSE_INLINE_CHUNK ? [text] : splitInlineReference(text, size);
      assert.deepEqual(splitInline(text), expected, `seed ${seed}, round ${round}`);
    }
  });
});
