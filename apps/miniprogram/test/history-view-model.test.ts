import assert from 'node:assert/strict';
import { test } from '@jest/globals';
import type { ConversationSummary } from '@wxstream/protocol';
import { appendItemsData, historyItems, itemChangesData, type TimeContext } from '../miniprogram/pages/history/history-view-model.ts';

const NOW = Date.parse('2025-03-15T10:30:00Z');
const time: TimeContext = { now: NOW, offsetAt: () => 0 };

function conv(id: string, title: string, minutesAgo: number): ConversationSummary {
  const updatedAt = new Date(NOW - minutesAgo * 60_000).toISOString();
  return { id, title, createdAt: updatedAt, updatedAt };
}

test('a row holds the display title and the relative time', () => {
  assert.deepEqual(historyItems([conv('a', ' 计划 ', 5), conv('b', '', 0)], time), [
    { id: 'a', title: '计划', time: '5 分钟前' },
    { id: 'b', title: '未命名对话', time: '刚刚' },
  ]);
});

test('appended rows are path keys after the rows already shown', () => {
  const rows = historyItems([conv('c', 'c', 1), conv('d', 'd', 2)], time);
  assert.deepEqual(appendItemsData(20, rows), { 'items[20]': rows[0], 'items[21]': rows[1] });
});

test('a rename or a time refresh sends only the fields that changed', () => {
  const before = historyItems([conv('a', 'A', 5), conv('b', 'B', 30)], time);
  const after = historyItems([conv('a', 'A', 5), conv('b', 'B2', 30)], { ...time, now: NOW + 60_000 });
  assert.deepEqual(itemChangesData(before, after), {
    'items[0].time': '6 分钟前',
    'items[1].title': 'B2',
    'items[1].time': '31 分钟前',
  });
  assert.deepEqual(itemChangesData(before, before), {});
});

test('rows that differ (one removed) are sent as the whole list', () => {
  const before = historyItems([conv('a', 'A', 5), conv('b', 'B', 30)], time);
  const after = before.slice(1);
  assert.deepEqual(itemChangesData(before, after), { items: after });
});
