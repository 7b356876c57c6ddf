/**
 * ReplyMarkdown, the page's side of a streamed Markdown reply: whatever the frames, a view that applies
 * only the path keys it returns ends up holding exactly the blocks of the stored reply, and a block is
 * never sent again once a block three places further on has appeared.
 */
import assert from 'node:assert/strict';
import { test } from '@jest/globals';
import { MARKDOWN_CORPUS } from '@wxstream/client/testing/markdown-corpus';
import { renderMarkdown } from '../miniprogram/vendor/wxstream-client.js';
import { displayBlocks } from '../miniprogram/components/markdown-block/display-block.ts';
import { ReplyMarkdown } from '../miniprogram/pages/chat/reply-markdown.ts';
import { readPath } from './support/sim-page.ts';

const PATH = 'messages[1].blocks';

/** A view holding page data, changed only by setData keys (deep copies, as the bridge makes them). */
class View {
  data: Record<string, unknown> = { messages: [{}, { blocks: [] }] };

  apply(keys: Record<string, unknown>): void {
    for (const [path, value] of Object.entries(keys)) {
      const parts = path.match(/[^.[\]]+/g) ?? [];
      const last = parts.pop() ?? '';
      const parent = readPath(this.data, parts.join('.')) as Record<string, unknown>;
      parent[last] = JSON.parse(JSON.stringify(value)) as unknown;
    }
  }

  blocks(): unknown[] {
    return (readPath(this.data, PATH) as { kind: string }[]).filter((block) => block.kind !== 'none');
  }
}

function seededDeltas(text: string, seed: number, max: number): string[] {
  let state = seed;
  const next = (n: number) => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state % n;
  };
  const points = Array.from(text);
  const out: string[] = [];
  for (let i = 0; i < points.length; ) {
    const take = 1 + next(max);
    out.push(points.slice(i, i + take).join(''));
    i += take;
  }
  return out;
}

for (const { name, text } of MARKDOWN_CORPUS) {
  test(`${name}: frames of every size leave the view holding the stored reply's blocks`, () => {
    for (const [seed, max] of [[1, 1], [2, 4], [3, 25]] as const) {
      const reply = new ReplyMarkdown();
      const view = new View();
      let shown = '';
      const touched = new Map<number, number>();
      const appeared = new Map<number, number>();
      seededDeltas(text, seed, max).forEach((delta, frame) => {
        shown += delta;
        const keys = reply.update(PATH, shown, false);
        view.apply(keys);
        for (const key of Object.keys(keys)) {
          const index = Number(/^messages\[1\]\.blocks\[(\d+)\]/.exec(key)?.[1] ?? -1);
          touched.set(index, frame);
          if (!appeared.has(index)) appeared.set(index, frame);
        }
      });
      view.apply(reply.update(PATH, shown, true));
      assert.deepEqual(view.blocks(), displayBlocks(renderMarkdown(text)), `seed ${seed}`);
      for (const [index, last] of touched) {
        const later = appeared.get(index + 3);
        if (later !== undefined) assert.ok(last < later, `block ${index} was sent after block ${index + 3} appeared`);
      }
    }
  });
}

test('random soups of Markdown syntax, in random frames, leave the view holding the stored blocks', () => {
  const pieces = ['- ', '1. ', '> ', '\n', '\n\n', '`', '```js\n', '```\n', '| a | b |\n', '|---|---|\n', '# ', '---\n', 'word ', '中文', '**', '*', '_', '~~', '[x', '](https://x.y)', '<div>', '    ', '\\', '![i](https://a/b.png)', 'Title\n', '===\n'];
  for (let round = 0; round < 150; round++) {
    let state = round + 1;
    const next = (n: number) => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return (state >>> 8) % n;
    };
    let text = '';
    for (let k = 0, count = 5 + next(40); k < count; k++) text += pieces[next(pieces.length)] ?? '';
    const reply = new ReplyMarkdown();
    const view = new View();
    for (const end of seededDeltas(text, round + 7, 3).map((_, i, all) => all.slice(0, i + 1).join(''))) {
      view.apply(reply.update(PATH, end, false));
    }
    view.apply(reply.update(PATH, text, true));
    assert.deepEqual(view.blocks(), displayBlocks(renderMarkdown(text)), `round ${round}: ${JSON.stringify(text)}`);
  }
});

test('text that does not continue the shown reply (a retry starting over) resets the list in one key', () => {
  const reply = new ReplyMarkdown();
  reply.update(PATH, '# 一\n\n二', false);
  assert.deepEqual(Object.keys(reply.update(PATH, '重来', false)), [PATH]);
});
