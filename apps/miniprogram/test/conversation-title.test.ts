import assert from 'node:assert/strict';
import { test } from '@jest/globals';
import { MAX_TITLE_CHARS } from '@wxstream/protocol';
import { checkTitle, displayTitle, UNTITLED } from '../miniprogram/lib/conversation-title.ts';

test('a title is trimmed before it is checked and sent', () => {
  assert.deepEqual(checkTitle('  周末计划 \n'), { ok: true, title: '周末计划' });
});

test('a blank title is refused with a reason', () => {
  assert.deepEqual(checkTitle('   '), { ok: false, message: '标题不能为空' });
});

test('the length limit counts characters, so emoji count once', () => {
  const emoji = '😀'.repeat(MAX_TITLE_CHARS);
  assert.equal(emoji.length, 2 * MAX_TITLE_CHARS, 'twice as many UTF-16 units');
  assert.deepEqual(checkTitle(emoji), { ok: true, title: emoji });
  assert.deepEqual(checkTitle(`${emoji}a`), { ok: false, message: `标题不能超过 ${MAX_TITLE_CHARS} 个字` });
});

test('an empty title is shown as untitled', () => {
  assert.equal(displayTitle(' '), UNTITLED);
  assert.equal(displayTitle(' 旅行 '), '旅行');
});
