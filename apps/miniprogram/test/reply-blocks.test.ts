import assert from 'node:assert/strict';
import { test } from '@jest/globals';
import { blockChanges, splitReplyBlocks, type ReplyBlock } from '../miniprogram/pages/chat/reply-blocks.ts';

type Unkeyed = Omit<ReplyBlock, 'id'>;
const text = (t: string): Unkeyed => ({ kind: 'text', text: t, lang: '' });
const code = (t: string, lang = ''): Unkeyed => ({ kind: 'code', text: t, lang });
/** Blocks as a reply holds them: keyed by position. */
const keyed = (...blocks: Unkeyed[]): ReplyBlock[] => blocks.map((block, id) => ({ id, ...block }));

test('an empty reply has no blocks', () => {
  assert.deepEqual(splitReplyBlocks(''), []);
});

test('a paragraph ends after its blank line, which it keeps', () => {
  assert.deepEqual(splitReplyBlocks('第一段。\n\n第二段，\n还是第二段。'), keyed(text('第一段。\n\n'), text('第二段，\n还是第二段。')));
});

test('consecutive text blocks concatenate back to the source text', () => {
  const source = '甲\n\n\n乙 \n \n丙\n\n';
  const blocks = splitReplyBlocks(source);
  assert.ok(blocks.length >= 3);
  assert.equal(blocks.map((b) => b.text).join(''), source);
});

test('a fenced code block loses its fences and keeps its language', () => {
  assert.deepEqual(splitReplyBlocks('看代码：\n```ts\nconst a = 1;\n  indented();\n```\n完。'), keyed(
    text('看代码：\n'),
    code('const a = 1;\n  indented();', 'ts'),
    text('完。'),
  ));
});

test('a code block still streaming shows as code without the newline awaiting its next line', () => {
  assert.deepEqual(splitReplyBlocks('```py\nprint(1)\n'), keyed(code('print(1)', 'py')));
});

test('a closing fence must use the same character and be at least as long', () => {
  assert.deepEqual(splitReplyBlocks('````\n```\n~~~\n````\n'), keyed(code('```\n~~~')));
});

test('backticks inside a line are text, not a fence', () => {
  assert.deepEqual(splitReplyBlocks('用 ```x``` 表示'), keyed(text('用 ```x``` 表示')));
});

test('a blank line inside code does not split the code block', () => {
  assert.deepEqual(splitReplyBlocks('```\na\n\nb\n```'), keyed(code('a\n\nb')));
});

test('growing a reply only ever changes its last two blocks', () => {
  const source = '一段文字。\n\n```js\nlet x = 1;\n```\n\n第二段。\n\n最后。';
  let before = splitReplyBlocks('');
  for (let end = 1; end <= source.length; end++) {
    const after = splitReplyBlocks(source.slice(0, end));
    const stable = Math.max(0, before.length - 2);
    assert.deepEqual(after.slice(0, stable), before.slice(0, stable), `prefix of length ${end}`);
    before = after;
  }
});

test('changes name only the changed field of the block being typed', () => {
  const before = splitReplyBlocks('第一段。\n\n第二');
  const after = splitReplyBlocks('第一段。\n\n第二段');
  assert.deepEqual(blockChanges('messages[1].blocks', before, after), { 'messages[1].blocks[1].text': '第二段' });
});

test('a new block is sent whole under its index', () => {
  const before = splitReplyBlocks('第一段。\n\n');
  const after = splitReplyBlocks('第一段。\n\n二');
  assert.deepEqual(blockChanges('m.blocks', before, after), { 'm.blocks[1]': { id: 1, ...text('二') } });
});

test('a block that turns from text into code is sent whole', () => {
  const before = splitReplyBlocks('引言\n\n``');
  const after = splitReplyBlocks('引言\n\n```go\n');
  assert.deepEqual(blockChanges('m.blocks', before, after), { 'm.blocks[1]': { id: 1, ...code('', 'go') } });
});

test('identical splits produce no changes', () => {
  const blocks = splitReplyBlocks('a\n\nb');
  assert.deepEqual(blockChanges('m.blocks', blocks, splitReplyBlocks('a\n\nb')), {});
});

test('fewer blocks than before replace the whole list', () => {
  assert.deepEqual(blockChanges('m.blocks', splitReplyBlocks('a\n\nb'), splitReplyBlocks('c')), { 'm.blocks': keyed(text('c')) });
});
