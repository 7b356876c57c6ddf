/**
 * renderMarkdown: what each piece of Markdown becomes, what never gets through (script, style, unsafe
 * URLs), and bounded work on hostile input. The corpus renders are pinned by a snapshot file
 * (`WXSTREAM_UPDATE_SNAPSHOTS=1` rewrites it after an intended change; review the diff).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { MarkdownStream, plainText, renderMarkdown, type RichTextElement, type RichTextNode } from '../src/index.ts';
import { MARKDOWN_CORPUS } from './support/markdown-corpus.ts';
import { HOSTILE_MARKDOWN as HOSTILE } from './support/markdown-hostile.ts';

const el = (node: RichTextNode | undefined): RichTextElement => {
  assert.ok(node && !('type' in node), 'an element');
  return node as RichTextElement;
};

function walk(nodes: readonly RichTextNode[], visit: (node: RichTextElement) => void): void {
  for (const node of nodes) {
    if ('type' in node) continue;
    visit(node);
    walk(node.children ?? [], visit);
  }
}

const ALLOWED_ATTRS = new Set(['class', 'href', 'src', 'alt', 'start', 'data-lang']);
const ALLOWED_NAMES = new Set(['p', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'blockquote', 'ul', 'ol', 'li', 'pre', 'code', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'hr', 'strong', 'em', 'del', 'a', 'img', 'br', 'span']);

/** Every element is one the renderer writes, with only its own attributes and safe URLs. */
function assertSafe(nodes: readonly RichTextNode[]): void {
  walk(nodes, (node) => {
    assert.ok(ALLOWED_NAMES.has(node.name), `element ${node.name}`);
    for (const [key, value] of Object.entries(node.attrs ?? {})) {
      assert.ok(ALLOWED_ATTRS.has(key), `attribute ${key}`);
      if (key === 'href') assert.match(value, /^https?:\/\/[^\s"'<>]+$/i);
      if (key === 'src') assert.match(value, /^https:\/\/[^\s"'<>]+$/i);
      if (key === 'class') assert.match(value, /^[\w -]+$/);
    }
  });
}

describe('renderMarkdown: what Markdown becomes', () => {
  test('headings, paragraphs and inline styles become their elements', () => {
    const [h2, p] = renderMarkdown('## Title\n\nplain **strong** *em* ~~gone~~ `code` end');
    assert.equal(el(h2).name, 'h2');
    assert.deepEqual(el(p).children?.map((n) => ('type' in n ? n.text : n.name)), ['plain ', 'strong', ' ', 'em', ' ', 'del', ' ', 'code', ' end']);
  });

  test('nested ordered and task lists keep their structure, start number and check state', () => {
    const [list] = renderMarkdown('3. three\n4. four\n   - [x] done\n   - [ ] todo\n');
    assert.equal(el(list).name, 'ol');
    assert.equal(el(list).attrs?.start, '3');
    const inner = el(el(el(list).children?.[1]).children?.find((n) => !('type' in n) && n.name === 'ul'));
    assert.deepEqual(inner.children?.map((li) => el(li).attrs?.class), ['md-li md-li-task md-li-done', 'md-li md-li-task']);
    assert.equal(plainText(inner.children ?? []), '☑ done☐ todo');
  });

  test('a GFM table becomes thead/tbody with alignment classes', () => {
    const [table] = renderMarkdown('| a | b |\n|:-:|--:|\n| 1 | 2 |\n');
    assert.equal(el(table).name, 'table');
    const [thead, tbody] = el(table).children ?? [];
    assert.equal(el(el(el(thead).children?.[0]).children?.[0]).attrs?.class, 'md-th md-align-center');
    assert.equal(el(el(el(tbody).children?.[0]).children?.[1]).attrs?.class, 'md-td md-align-right');
  });

  test('fenced code is highlighted in a known language and plain in an unknown one, text kept exactly', () => {
    const [known] = renderMarkdown('```js\nconst a = "<b>";\n```');
    const code = el(el(known).children?.[0]);
    assert.equal(el(known).attrs?.['data-lang'], 'js');
    assert.equal(plainText(code.children ?? []), 'const a = "<b>";');
    assert.ok(code.children?.some((n) => !('type' in n) && n.attrs?.class === 'hljs-keyword'));
    const [unknown] = renderMarkdown('```brainfuck\n+++.\n```');
    assert.deepEqual(el(el(unknown).children?.[0]).children, [{ type: 'text', text: '+++.' }]);
  });

  test('indented code, quotes, rules, hard breaks and setext headings', () => {
    const names = renderMarkdown('    code\n\n> quote\n\n---\n\nline  \nbreak\n\nTitle\n===\n').map((n) => el(n).name);
    assert.deepEqual(names, ['pre', 'blockquote', 'hr', 'p', 'h1']);
    assert.ok(el(renderMarkdown('line  \nbreak')[0]).children?.some((n) => !('type' in n) && n.name === 'br'));
  });

  test('links and bare URLs keep http(s) targets; footnote and reference syntax stay text', () => {
    const [p] = renderMarkdown('[a](https://a.example/x) see https://b.example/y and [^1] and [c][ref]\n\n[ref]: https://c.example');
    const links = el(p).children?.filter((n) => !('type' in n) && n.name === 'a').map((n) => el(n).attrs?.href);
    assert.deepEqual(links, ['https://a.example/x', 'https://b.example/y']);
    assert.match(plainText([el(p)]), /\[\^1\] and \[c\]\[ref\]/);
  });

  test('a bare URL ends where Chinese text written right after it begins', () => {
    const [p] = renderMarkdown('见 https://example.com/a（备用 https://example.com/b）。完');
    const links = el(p).children?.filter((n) => !('type' in n) && n.name === 'a').map((n) => el(n).attrs?.href);
    assert.deepEqual(links, ['https://example.com/a', 'https://example.com/b']);
    assert.equal(plainText([el(p)]), '见 https://example.com/a（备用 https://example.com/b）。完');
  });

  test('entities decode to the characters they name; unknown ones stay as written', () => {
    assert.equal(plainText(renderMarkdown('&amp; &lt;b&gt; &copy; &#x1F600; &#0; &bogus;')), '& <b> © 😀 \ufffd &bogus;');
  });
});

describe('renderMarkdown: nothing unsafe gets through', () => {
  test('raw HTML is shown as the text the model wrote, never as elements', () => {
    const nodes = renderMarkdown('<script>alert(1)</script>\n\ntext <img src=x onerror=alert(1)> <b style="color:red">b</b>\n\n<div style="x">d</div>');
    assertSafe(nodes);
    const text = plainText(nodes);
    assert.match(text, /<script>alert\(1\)<\/script>/);
    assert.match(text, /<img src=x onerror=alert\(1\)>/);
    assert.match(text, /<div style="x">d<\/div>/);
  });

  test('javascript:, data:, vbscript:, relative and protocol-relative targets are dropped, their text kept', () => {
    const nodes = renderMarkdown('[a](javascript:alert(1)) [b](JAVASCRIPT:x) [c](data:text/html,hi) [d](vbscript:x) [e](/rel) [f](//evil.example) [g](<https://ok.example/a b>) ![h](javascript:x) ![i](http://plain.example/i.png) ![j](https://ok.example/j.png) <javascript:alert(1)> me@example.com');
    assertSafe(nodes);
    const hrefs: string[] = [];
    walk(nodes, (node) => {
      if (node.attrs?.href) hrefs.push(node.attrs.href);
      if (node.attrs?.src) hrefs.push(node.attrs.src);
    });
    assert.deepEqual(hrefs, ['https://ok.example/j.png']);
    assert.match(plainText(nodes), /^a b c d e f g h i/);
  });

  test('a code fence info string cannot inject an attribute', () => {
    const [pre] = renderMarkdown('```js" onload="alert(1)\nx\n```');
    assert.equal(el(pre).attrs?.['data-lang'], '');
    assertSafe([el(pre)]);
  });

  test('every corpus render uses only the renderer’s elements, attributes and safe URLs', () => {
    for (const { text } of MARKDOWN_CORPUS) assertSafe(renderMarkdown(text));
  });
});

/**
 * Hostile shapes. Each must render without throwing and within a generous bound (2 s each, on a
 * loaded 2-core CI machine; they take about 1–40 ms there) — the bound catches a quadratic blow-up
 * (before the nesting cap, 10,000 `>` overflowed the stack; `*a` × 50,000 took 5 s), not speed. What
 * keeps the dense lines fast is pinned by work done, not time, in markdown-lexer.test.ts.
 */

describe('renderMarkdown: hostile input renders safely in bounded time', () => {
  for (const { name, text } of HOSTILE) {
    test(`${name}`, () => {
      const started = performance.now();
      const nodes = renderMarkdown(text);
      const elapsed = performance.now() - started;
      assertSafe(nodes);
      assert.ok(elapsed < 2000, `${name} took ${Math.round(elapsed)} ms`);
    });
  }

  test('hostile input streamed in large deltas ends equal to the whole render (dense lines past their budget too)', () => {
    for (const { name, text } of HOSTILE) {
      const stream = new MarkdownStream();
      for (let i = 0; i < text.length; i += 9_973) {
        stream.append(text.slice(i, i + 9_973));
        void stream.open;
      }
      stream.end();
      assert.deepEqual(stream.finished, renderMarkdown(text), name);
    }
  });
});

const SNAPSHOT = new URL('./fixtures/markdown-corpus.snapshot.json', import.meta.url);

describe('renderMarkdown: corpus snapshot', () => {
  test('the corpus renders to the node trees in fixtures/markdown-corpus.snapshot.json', () => {
    const actual = Object.fromEntries(MARKDOWN_CORPUS.map(({ name, text }) => [name, renderMarkdown(text)]));
    if (process.env.WXSTREAM_UPDATE_SNAPSHOTS === '1' || !existsSync(SNAPSHOT)) {
      writeFileSync(SNAPSHOT, `${JSON.stringify(actual, null, 1)}\n`);
    }
    assert.deepEqual(actual, JSON.parse(readFileSync(SNAPSHOT, 'utf8')));
  });
});
