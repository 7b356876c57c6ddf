import assert from 'node:assert/strict';
import { test } from '@jest/globals';
import type { ConversationSummary } from '@wxstream/protocol';
import {
  appendPage,
  indexOfConversation,
  removeConversation,
  replaceConversation,
  restoreConversation,
} from '../miniprogram/pages/history/conversation-list.ts';

function conv(id: string, title = id): ConversationSummary {
  return { id, title, createdAt: '2025-01-01T00:00:00Z', updatedAt: '2025-01-01T00:00:00Z' };
}

const ids = (list: readonly ConversationSummary[]) => list.map((item) => item.id);

test('a page that overlaps the list adds only the conversations not listed yet', () => {
  const list = [conv('a'), conv('b'), conv('c')];
  const { list: merged, added } = appendPage(list, [conv('c', 'moved copy'), conv('d'), conv('e')]);
  assert.deepEqual(ids(merged), ['a', 'b', 'c', 'd', 'e']);
  assert.deepEqual(ids(added), ['d', 'e']);
  assert.equal(merged[2]?.title, 'c', 'the listed copy keeps its place and content');
  assert.deepEqual(ids(list), ['a', 'b', 'c'], 'the input is not changed');
});

test('duplicates inside one page are dropped too', () => {
  assert.deepEqual(ids(appendPage([], [conv('a'), conv('a'), conv('b')]).list), ['a', 'b']);
});

test('replacing keeps the position; a conversation not listed changes nothing', () => {
  const list = [conv('a'), conv('b')];
  assert.deepEqual(
    replaceConversation(list, conv('b', '新')).map((item) => item.title),
    ['a', '新'],
  );
  assert.deepEqual(replaceConversation(list, conv('z')), list);
});

test('a removed conversation is put back where it was, or at the end of a shorter list', () => {
  const list = [conv('a'), conv('b'), conv('c')];
  const without = removeConversation(list, 'b');
  assert.deepEqual(ids(without), ['a', 'c']);
  assert.equal(indexOfConversation(without, 'b'), -1);
  assert.deepEqual(ids(restoreConversation(without, conv('b'), 1)), ['a', 'b', 'c']);
  assert.deepEqual(ids(restoreConversation([conv('a')], conv('b'), 5)), ['a', 'b']);
  assert.deepEqual(ids(restoreConversation(list, conv('b'), 0)), ['a', 'b', 'c'], 'never twice');
});
