/**
 * MarkdownStream against renderMarkdown: whatever the deltas, the finished blocks end equal to the
 * whole-text render, finished blocks never change once finished, and no prefix shows a marker the final
 * render does not. Random splits use a seeded generator; a failure names its seed, and
 * `WXSTREAM_SEED=<seed>` replays it.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MarkdownStream, plainText, renderMarkdown, type RichTextNode } from '../src/index.ts';
import { MARKDOWN_CORPUS } from './support/markdown-corpus.ts';
import { createSeededRandom, testSeed } from './support/seeded-random.ts';

/** Streams `deltas`, reading the stream after each one (as the page does per frame), then ends it. */
function streamed(deltas: readonly string[], onEach?: (stream: MarkdownStream) => void): MarkdownStream {
  const stream = new MarkdownStream();
  for (const delta of deltas) {
    stream.append(delta);
    void stream.open;
    onEach?.(stream);
  }
  stream.end();
  return stream;
}

function randomDeltas(text: string, random: ReturnType<typeof createSeededRandom>, maxLength: number): string[] {
  const points = Array.from(text);
  const deltas: string[] = [];
  for (let i = 0; i < points.length; ) {
    const take = 1 + random.int(maxLength);
    deltas.push(points.slice(i, i + take).join(''));
    i += take;
  }
  return deltas;
}

describe('MarkdownStream ends equal to renderMarkdown', () => {
  for (const { name, text } of MARKDOWN_CORPUS) {
    test(`${name}: streamed one code point at a time`, () => {
      assert.deepEqual(streamed(Array.from(text)).finished, renderMarkdown(text));
    });

    test(`${name}: streamed in two pieces at every split of its first 2,000 characters`, () => {
      const whole = renderMarkdown(text);
      const limit = Math.min(text.length, 2000);
      for (let cut = 1; cut < limit; cut++) {
        const finished = streamed([text.slice(0, cut), text.slice(cut)]).finished;
        assert.deepEqual(finished, whole, `split at ${cut}: ${JSON.stringify(text.slice(Math.max(0, cut - 20), cut))}|`);
      }
    });
  }

  test('random texts assembled from the corpus, in random deltas, end equal to the whole render', () => {
    const seed = testSeed(20261208);
    const random = createSeededRandom(seed);
    const paragraphs = MARKDOWN_CORPUS.flatMap((entry) => entry.text.split(/\n(?=\n)/));
    for (let round = 0; round < 40; round++) {
      let text = '';
      const parts = 2 + random.int(6);
      for (let k = 0; k < parts; k++) text += random.pick(paragraphs) + (random.chance(0.5) ? '\n' : '');
      if (random.chance(0.3)) text = text.replace(/\n/g, '\r\n');
      const deltas = randomDeltas(text, random, random.pick([1, 3, 12, 80]));
      assert.deepEqual(streamed(deltas).finished, renderMarkdown(text), `seed ${seed}, round ${round}`);
    }
  });

  test('random soups of Markdown syntax (lists, quotes, fences, tables, HTML, CRLF), streamed in tiny deltas, end equal to the whole render', () => {
    const pieces = ['-', '- ', '* ', '+ ', '1. ', '2) ', '>', '> ', ' ', '  ', '    ', '\n', '\n\n', '`', '```', '~~~', '```js\n', '|', '| a | b |\n', '|---|---|\n', '#', '# ', '===', '---', 'a', 'word ', '中文', '**', '*', '_', '~~', '[', ']', '(', ')', '](https://x.y)', '<div>', '</div>', '<!--', '-->', '\\', '&amp;', '[ ] ', '[x] ', '\t', '\r\n', '<https://a.b>', '![i](https://a/b.png)'];
    const seed = testSeed(7);
    const random = createSeededRandom(seed);
    for (let round = 0; round < 300; round++) {
      let text = '';
      const count = 5 + random.int(60);
      for (let k = 0; k < count; k++) text += random.pick(pieces);
      const deltas = randomDeltas(text, random, random.pick([1, 1, 3, 20]));
      assert.deepEqual(streamed(deltas).finished, renderMarkdown(text), `seed ${seed}, round ${round}: ${JSON.stringify(text)}`);
    }
  });

  test('CRLF split between two deltas counts as one newline', () => {
    const text = 'line one\r\n\r\n- item\r\n- item two\r\n';
    const deltas = ['line one\r', '\n\r', '\n- item\r', '\n- item two\r', '\n'];
    assert.deepEqual(streamed(deltas).finished, renderMarkdown(text));
  });
});

describe('MarkdownStream keeps finished blocks fixed', () => {
  for (const { name, text } of MARKDOWN_CORPUS) {
    test(`${name}: every finished block is already its final node, and the list only grows`, () => {
      const final = renderMarkdown(text);
      let seen = 0;
      let sawFinishedBeforeEnd = false;
      streamed(Array.from(text), (stream) => {
        const finished = stream.finished;
        assert.ok(finished.length >= seen, 'finished blocks never disappear');
        for (let i = seen; i < finished.length; i++) assert.deepEqual(finished[i], final[i], `block ${i} finished early with a different render`);
        if (finished.length > 0) sawFinishedBeforeEnd = true;
        seen = finished.length;
        assert.ok(stream.open.length <= 3, `the open region stays small (${stream.open.length} blocks)`);
      });
      assert.ok(sawFinishedBeforeEnd, 'blocks are finished while the text still streams');
    });
  }

  test('a block is finished as soon as the next block has a complete line, not at the end', () => {
    const stream = new MarkdownStream();
    stream.append('# Title\n\nFirst paragraph.\n\n');
    assert.equal(stream.finished.length, 1, 'the heading is finished once the paragraph line is complete');
    stream.append('Second');
    assert.equal(stream.finished.length, 1, 'the paragraph waits until the next block has a complete line');
    stream.append(' paragraph.\n');
    assert.equal(stream.finished.length, 2);
    assert.equal(stream.open.length, 1);
  });

  test('a list stays open across a blank line, because the next item may continue it', () => {
    const stream = new MarkdownStream();
    stream.append('- one\n\n');
    void stream.open;
    stream.append('- two\n');
    assert.equal(stream.finished.length, 0);
    stream.append('\nAfter the list.\n');
    assert.equal(stream.finished.length, 1);
    assert.equal((stream.finished[0] as { children: RichTextNode[] }).children.length, 2, 'both items are in one list');
  });

  test('a fenced code block with blank lines inside stays one open block until its fence closes', () => {
    const stream = new MarkdownStream();
    stream.append('```js\nconst a = 1;\n\n\nconst b = 2;\n');
    assert.equal(stream.finished.length, 0);
    assert.equal(stream.open.length, 1);
    assert.equal(plainText(stream.open), 'const a = 1;\n\n\nconst b = 2;');
    stream.append('```\nNext.\n');
    assert.equal(stream.finished.length, 1);
  });

  test('append after end is refused with a message that says what to do', () => {
    const stream = new MarkdownStream();
    stream.end();
    assert.throws(() => stream.append('x'), /start a new MarkdownStream/);
  });
});

const MARKERS = ['*', '_', '`', '~', '[', ']'] as const;

function count(text: string, ch: string): number {
  let n = 0;
  for (const c of text) if (c === ch) n++;
  return n;
}

describe('no half-typed syntax on screen', () => {
  for (const { name, text } of MARKDOWN_CORPUS) {
    test(`${name}: no prefix shows more emphasis, code or link markers than the final render`, () => {
      const finalText = plainText(renderMarkdown(text));
      const allowed = new Map(MARKERS.map((m) => [m, count(finalText, m)]));
      let prefix = '';
      streamed(Array.from(text), (stream) => {
        prefix = stream.source;
        const shown = plainText(stream.blocks);
        for (const marker of MARKERS) {
          const n = count(shown, marker);
          assert.ok(n <= (allowed.get(marker) ?? 0), `after ${JSON.stringify(prefix.slice(-40))} the screen shows ${n} × ${marker}: ${JSON.stringify(shown.slice(-80))}`);
        }
      });
    });
  }
});
