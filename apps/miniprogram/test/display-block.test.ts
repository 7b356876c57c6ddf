/**
 * display-block: rich-text nodes → the blocks markdown-block renders, keeping every character.
 */
import assert from 'node:assert/strict';
import { test } from '@jest/globals';
import { MARKDOWN_CORPUS } from '@wxstream/client/testing/markdown-corpus';
import { highlightCode, plainText, renderMarkdown } from '../miniprogram/vendor/wxstream-client.js';
import { codeLines, codeText, displayBlocks, inlineParts } from '../miniprogram/components/markdown-block/display-block.ts';

test('a code block’s lines hold exactly its code, spans split across line breaks', () => {
  const code = '/* a\n   b */\nconst s = `x\n${y}`;\n\n  indented();';
  const lines = codeLines(highlightCode(code, 'js'));
  assert.equal(codeText(lines), code);
  assert.equal(lines.length, 6);
  assert.ok(lines[1]?.some((run) => run.cls.includes('hljs-comment')), 'the comment colours both its lines');
});

test('inline runs keep every character, marks as classes, links with their URL, images apart', () => {
  const [p] = renderMarkdown('a **b *c*** [d](https://d.example) ![e](https://e.example/e.png) f');
  const parts = inlineParts(p && 'children' in p ? (p.children ?? []) : []);
  assert.deepEqual(parts, [
    {
      kind: 'text',
      runs: [
        { text: 'a ', cls: '', href: '' },
        { text: 'b ', cls: 'md-strong', href: '' },
        { text: 'c', cls: 'md-strong md-em', href: '' },
        { text: ' ', cls: '', href: '' },
        { text: 'd', cls: 'md-link', href: 'https://d.example' },
        { text: ' ', cls: '', href: '' },
      ],
    },
    { kind: 'image', src: 'https://e.example/e.png', alt: 'e' },
    { kind: 'text', runs: [{ text: ' f', cls: '', href: '' }] },
  ]);
});

test('every corpus answer keeps its text through the display blocks, and no field is undefined', () => {
  for (const { text } of MARKDOWN_CORPUS) {
    const nodes = renderMarkdown(text);
    const blocks = displayBlocks(nodes);
    const json = JSON.stringify(blocks);
    assert.equal(json.includes('undefined'), false);
    const shown: string[] = [];
    const walk = (value: unknown): void => {
      if (Array.isArray(value)) value.forEach(walk);
      else if (value && typeof value === 'object') {
        for (const [key, field] of Object.entries(value)) {
          if (key === 'text' && typeof field === 'string') shown.push(field);
          else walk(field);
        }
      }
    };
    walk(blocks);
    assert.equal(shown.join('').replace(/\s/g, ''), plainText(nodes).replace(/\s/g, ''));
  }
});
