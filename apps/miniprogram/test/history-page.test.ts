/**
 * The history page as WeChat would run it: the built page script, the template compiled by the official
 * WXML compiler, rendered by miniprogram-simulate, against a fake `wx` whose conversation routes are
 * answered by an in-memory server that behaves like the HTTP contract (support/fake-backend.ts), on
 * simulated time.
 */
import assert from 'node:assert/strict';
import { test } from '@jest/globals';
import { afterThisTest } from './support/after-this-test.ts';
import { errorBody, userMessageFor } from '@wxstream/protocol';
import type { FakeBackend } from './support/fake-backend.ts';
import type { FakeWx } from './support/fake-wx.ts';
import { HistoryPage } from './support/history-page.ts';

const RENAME = 0;
const DELETE = 1;

type Seed = (backend: FakeBackend, wx: FakeWx) => void;

function openHistory(seed?: Seed): HistoryPage {
  const page = new HistoryPage({ beforeLoad: (wx) => seed?.(wx.backend, wx) });
  afterThisTest(() => page.close());
  return page;
}

async function opened(seed?: Seed): Promise<HistoryPage> {
  const page = openHistory(seed);
  await page.advance(0);
  return page;
}

test('the list shows titles and relative times, newest first', async () => {
  const page = await opened((backend) => {
    const now = Date.now();
    backend.addConversation({ id: 'old', title: '去年的计划', updatedAt: new Date(now - 400 * 86_400_000).toISOString() });
    backend.addConversation({ id: 'new', title: '刚才的问题', updatedAt: new Date(now - 20_000).toISOString() });
    backend.addConversation({ id: 'mid', title: '五分钟前', updatedAt: new Date(now - 5 * 60_000).toISOString() });
    backend.addConversation({ id: 'blank', title: '', updatedAt: new Date(now - 50 * 60_000).toISOString() });
  });
  assert.deepEqual(page.titles(), ['刚才的问题', '五分钟前', '未命名对话', '去年的计划']);
  assert.deepEqual(page.times().slice(0, 3), ['刚刚', '5 分钟前', '50 分钟前']);
  assert.match(page.times()[3] ?? '', /^2023年\d+月\d+日$/);
  assert.equal(page.text('.footer'), '没有更多了');
  assert.equal(page.wx.backend.requests[0]?.query.get('limit'), '20');
});

test('reaching the bottom appends the next page by path keys, without the overlap a new conversation causes', async () => {
  const page = await opened((backend) => backend.addConversations(25, { minutesAgo: 10 }));
  assert.equal(page.titles().length, 20);
  assert.equal(page.text('.footer'), '加载更多');

  // A conversation started elsewhere moves every other one down a place: the next page repeats c-20.
  page.wx.backend.addConversation({ id: 'fresh', title: '新开的对话' });
  const before = page.calls.length;
  await page.reachBottom();
  const expected = Array.from({ length: 25 }, (_, i) => `对话 ${i + 1}`);
  assert.deepEqual(page.titles(), expected);
  assert.equal(page.text('.footer'), '没有更多了');
  const appended = page.calls.slice(before).flatMap((call) => Object.keys(call.data));
  assert.ok(!appended.includes('items'), 'the list is never resent to append');
  assert.deepEqual(
    appended.filter((key) => key.startsWith('items[')),
    ['items[20]', 'items[21]', 'items[22]', 'items[23]', 'items[24]'],
  );

  await page.reachBottom();
  assert.equal(page.wx.backend.requests.length, 2, 'nothing more is asked for after the last page');

  await page.pullDown();
  assert.deepEqual(page.titles().slice(0, 2), ['新开的对话', '对话 1']);
  assert.equal(page.titles().length, 20);
  assert.equal(page.data.refreshing, false);
  assert.equal(page.text('.footer'), '加载更多');
});

test('a failed page at the end offers a retry that continues from the same cursor', async () => {
  const page = await opened((backend) => backend.addConversations(22));
  page.wx.backend.answerNext('GET', '/api/conversations', { network: 'request:fail timeout' });
  await page.reachBottom();
  assert.equal(page.titles().length, 20);
  assert.equal(page.text('.footer'), `${userMessageFor('network_error')} 点击重试`);
  await page.tap('.footer');
  assert.equal(page.titles().length, 22);
  const cursors = page.wx.backend.requests.map((request) => request.query.get('cursor'));
  assert.equal(cursors[0], null);
  assert.ok(cursors[1] !== null && cursors[1] === cursors[2], 'the retry asks for the same page');
});

test('tapping a conversation relaunches the chat page with its id', async () => {
  const page = await opened((backend) => backend.addConversations(3));
  await page.tapRow(1);
  assert.deepEqual(page.wx.navigations, [{ api: 'reLaunch', url: '/pages/chat/chat?conversationId=c-2' }]);
});

test('新对话 relaunches an empty chat page', async () => {
  const page = await opened((backend) => backend.addConversations(1));
  await page.tap('.new-chat');
  assert.deepEqual(page.wx.navigations, [{ api: 'reLaunch', url: '/pages/chat/chat' }]);
});

test('an empty history says so and offers a new conversation', async () => {
  const page = await opened();
  assert.match(page.text('.empty'), /还没有对话/);
  assert.equal(page.exists('.item'), false);
  assert.equal(page.exists('.footer'), false);
  await page.tap('.empty-new-chat');
  assert.deepEqual(page.wx.navigations, [{ api: 'reLaunch', url: '/pages/chat/chat' }]);
});

test('a failed first load shows why, and retry loads the list', async () => {
  const page = openHistory((backend) => {
    backend.addConversations(2);
    backend.answerNext('GET', '/api/conversations', { statusCode: 503, data: errorBody('server_shutdown', 'restarting') });
  });
  assert.equal(page.text('.loading'), '正在加载…');
  await page.advance(0);
  assert.equal(page.text('.state-message'), userMessageFor('server_shutdown'));
  assert.equal(page.exists('.item'), false);
  await page.tap('.retry');
  assert.deepEqual(page.titles(), ['对话 1', '对话 2']);
  assert.equal(page.exists('.failed'), false);
});

test('an expired token is renewed once and the list still loads', async () => {
  const page = await opened((backend, wx) => {
    backend.addConversations(2);
    backend.expiredToken('stale');
    wx.storage.set('wxstream.auth', { token: 'stale', expiresAt: Date.now() + 3_600_000 });
  });
  assert.deepEqual(page.titles(), ['对话 1', '对话 2']);
  assert.equal(page.wx.loginCalls, 1);
  assert.deepEqual(
    page.wx.backend.requests.map((request) => request.authorization),
    ['Bearer stale', 'Bearer token-1'],
  );
});

test('rename shows the new title at once and keeps it when the server agrees', async () => {
  const page = await opened((backend) => backend.addConversations(3));
  page.wx.sheetAnswers.push(RENAME);
  page.wx.modalAnswers.push({ confirm: true, content: '  周末去哪儿  ' });
  page.wx.holdJson();
  await page.longPressRow(1);

  assert.deepEqual(page.wx.sheets, [['重命名', '删除']]);
  const modal = page.wx.modals[0];
  assert.equal(modal?.editable, true);
  assert.equal(modal?.content, '对话 2');
  assert.equal(page.titles()[1], '周末去哪儿', 'shown before the server answers');
  const renameCall = page.calls[page.calls.length - 1];
  assert.deepEqual(Object.keys(renameCall?.data ?? {}), ['items[1].title']);

  page.wx.releaseJson();
  await page.advance(0);
  assert.equal(page.titles()[1], '周末去哪儿');
  assert.equal(page.wx.backend.summary('c-2')?.title, '周末去哪儿');
  const sent = page.wx.backend.requests[page.wx.backend.requests.length - 1];
  assert.equal(sent?.method, 'PUT');
  assert.deepEqual(sent?.body, { title: '周末去哪儿' });
  assert.deepEqual(page.wx.toasts, []);
});

test('an invalid title is asked for again with the reason, and nothing is sent', async () => {
  const page = await opened((backend) => backend.addConversations(1));
  page.wx.sheetAnswers.push(RENAME);
  page.wx.modalAnswers.push({ confirm: true, content: '   ' }, { confirm: true, content: '好'.repeat(101) }, { confirm: false });
  await page.longPressRow(0);
  assert.deepEqual(
    page.wx.modals.map((modal) => modal.title),
    ['重命名对话', '标题不能为空', '标题不能超过 100 个字'],
  );
  assert.equal(page.wx.modals[2]?.content, '好'.repeat(101), 'the refused input is offered for editing');
  assert.equal(page.wx.backend.requests.length, 1, 'only the list was requested');
  assert.deepEqual(page.titles(), ['对话 1']);
});

test('a failed rename puts the old title back and says why', async () => {
  const page = await opened((backend) => backend.addConversations(2));
  page.wx.backend.answerNext('PUT', '/api/conversations/c-1', { statusCode: 500, data: errorBody('internal_error', 'db down') });
  page.wx.sheetAnswers.push(RENAME);
  page.wx.modalAnswers.push({ confirm: true, content: '新名字' });
  page.wx.holdJson();
  await page.tap('.item-more');
  assert.equal(page.titles()[0], '新名字');
  assert.deepEqual(page.wx.navigations, [], 'the more button does not open the conversation');

  page.wx.releaseJson();
  await page.advance(0);
  assert.deepEqual(page.titles(), ['对话 1', '对话 2']);
  assert.deepEqual(page.wx.toasts, [userMessageFor('internal_error')]);
  assert.equal(page.root.dom.textContent?.includes('db down'), false);
});

test('renaming a conversation deleted elsewhere takes it off the list', async () => {
  const page = await opened((backend) => backend.addConversations(2));
  page.wx.backend.answerNext('PUT', '/api/conversations/c-2', { statusCode: 404, data: errorBody('not_found', 'gone') });
  page.wx.sheetAnswers.push(RENAME);
  page.wx.modalAnswers.push({ confirm: true, content: '改名' });
  await page.longPressRow(1);
  assert.deepEqual(page.titles(), ['对话 1']);
  assert.deepEqual(page.wx.toasts, ['这个对话已经不存在了。']);
});

test('delete asks first; cancelling keeps the conversation, confirming removes it', async () => {
  const page = await opened((backend) => backend.addConversations(3));
  page.wx.sheetAnswers.push(DELETE);
  page.wx.modalAnswers.push({ confirm: false });
  await page.longPressRow(1);
  assert.match(page.wx.modals[0]?.content ?? '', /对话 2/);
  assert.equal(page.wx.modals[0]?.editable, undefined);
  assert.equal(page.titles().length, 3);
  assert.equal(page.wx.backend.requests.length, 1);

  page.wx.sheetAnswers.push(DELETE);
  page.wx.modalAnswers.push({ confirm: true });
  page.wx.holdJson();
  await page.longPressRow(1);
  assert.deepEqual(page.titles(), ['对话 1', '对话 3'], 'removed before the server answers');
  page.wx.releaseJson();
  await page.advance(0);
  assert.deepEqual(page.titles(), ['对话 1', '对话 3']);
  assert.equal(page.wx.backend.summary('c-2'), undefined);
  assert.equal(page.wx.backend.requests[1]?.method, 'DELETE');
});

test('a failed delete puts the row back where it was and says why', async () => {
  const page = await opened((backend) => backend.addConversations(3));
  page.wx.backend.answerNext('DELETE', '/api/conversations/c-2', { network: 'request:fail timeout' });
  page.wx.sheetAnswers.push(DELETE);
  page.wx.modalAnswers.push({ confirm: true });
  await page.longPressRow(1);
  assert.deepEqual(page.titles(), ['对话 1', '对话 2', '对话 3']);
  assert.deepEqual(page.wx.toasts, [userMessageFor('network_error')]);
  assert.ok(page.wx.backend.summary('c-2'));
});

test('dismissing the action sheet does nothing', async () => {
  const page = await opened((backend) => backend.addConversations(1));
  await page.longPressRow(0);
  assert.equal(page.wx.sheets.length, 1);
  assert.deepEqual(page.wx.modals, []);
  assert.deepEqual(page.wx.navigations, []);
});

test('relative times move on when the page is shown again', async () => {
  const page = await opened((backend) => backend.addConversations(2, { minutesAgo: 3 }));
  assert.deepEqual(page.times(), ['3 分钟前', '4 分钟前']);
  page.hide();
  await page.advance(2 * 60_000, 1000);
  const before = page.calls.length;
  page.show();
  assert.deepEqual(page.times(), ['5 分钟前', '6 分钟前']);
  assert.deepEqual(Object.keys(page.calls[before]?.data ?? {}), ['items[0].time', 'items[1].time']);
});
