/**
 * A long conversation on the real chat page: the newest page shows at once, older pages come on
 * scrolling up with the reader kept in place, and no `setData` ever carries more than one page of
 * messages. The keyboard and the dock under the list.
 */
import assert from 'node:assert/strict';
import { test } from '@jest/globals';
import { afterThisTest } from './support/after-this-test.ts';
import { ChatPage, type SetDataCall } from './support/chat-page.ts';

const PAGE = 30;

async function openLong(count = 200): Promise<ChatPage> {
  const page = new ChatPage({ beforeLoad: (wx) => wx.backend.addLongConversation('c-long', count) });
  afterThisTest(() => page.close());
  await page.load({ conversationId: 'c-long' });
  return page;
}

/** How many whole messages one setData carries (a list, or one message per path key). */
function messagesIn(call: SetDataCall): number {
  let count = 0;
  for (const [key, value] of Object.entries(call.data)) {
    if ((key === 'messages' || /^older\.p\d+$/.test(key)) && Array.isArray(value)) count += value.length;
    else if (/^(messages|older\.p\d+)\[\d+\]$/.test(key)) count += 1;
  }
  return count;
}

function shownTexts(page: ChatPage): string[] {
  return page.findAll('.answer').map((node) => node.dom.textContent ?? '');
}

async function scrollToTop(page: ChatPage): Promise<void> {
  await page.dispatch('.list', 'scrolltoupper', { direction: 'top' });
}

test('opening a 200-message conversation shows its newest page with one setData', async () => {
  const page = await openLong();
  const texts = shownTexts(page);
  assert.equal(texts.length, PAGE);
  assert.equal(texts[0], '问题 171');
  assert.equal(texts[PAGE - 1], '回答 200：第 200 条消息。');
  const gets = page.wx.jsonRequests.filter((r) => r.url.includes('/api/conversations/c-long'));
  assert.deepEqual(gets.map((r) => new URL(r.url).search), ['?limit=30']);
  assert.equal(page.calls.filter((call) => messagesIn(call) > 0).length, 1);
  assert.equal(page.exists('.older-state'), true, 'there is more above');
});

test('scrolling up loads older pages above, keeps the reader in place, and reaches the first message', async () => {
  const page = await openLong();
  let expectedTop = 171;
  for (let round = 0; round < 10 && page.data.hasOlder === true; round++) {
    const topId = (page.data.messages as { id: string }[])[0]?.id;
    const firstShownId = round === 0 ? topId : undefined;
    await scrollToTop(page);
    expectedTop = Math.max(1, expectedTop - PAGE);
    const texts = shownTexts(page);
    assert.equal(texts[0], `问题 ${expectedTop}`, `after ${round + 1} older pages`);
    const last = page.calls[page.calls.length - 1] as SetDataCall;
    assert.ok(messagesIn(last) <= PAGE, `one page per setData, got ${messagesIn(last)}`);
    assert.equal(typeof last.data.scrollAnchor, 'string', 'the list scrolls to where the reader was');
    if (firstShownId !== undefined) assert.equal(last.data.scrollAnchor, firstShownId);
    assert.equal(page.data.following, false, 'reading history does not snap back to the bottom');
  }
  const texts = shownTexts(page);
  assert.equal(texts.length, 200);
  assert.deepEqual(
    texts,
    Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? `问题 ${i + 1}` : `回答 ${i + 1}：第 ${i + 1} 条消息。`)),
    'every message once, in order',
  );
  assert.equal(page.exists('.older-state'), false, 'nothing more above the first message');
  const largest = Math.max(...page.calls.map(messagesIn));
  assert.ok(largest <= PAGE, `largest setData carried ${largest} messages`);
  const requests = page.wx.jsonRequests.length;
  await scrollToTop(page);
  assert.equal(page.wx.jsonRequests.length, requests, 'no request past the first message');
});

test('a burst of scroll events at the top loads the page once', async () => {
  const page = await openLong();
  page.wx.holdJson();
  await scrollToTop(page);
  await scrollToTop(page);
  await scrollToTop(page);
  page.wx.releaseJson();
  await page.advance(0);
  const olderLoads = page.wx.jsonRequests.filter((r) => r.url.includes('before='));
  assert.equal(olderLoads.length, 1);
  assert.equal(shownTexts(page).length, 60);
});

test('an older page that fails to load says so, and tapping the line loads it again', async () => {
  const page = await openLong();
  page.wx.backend.answerNext('GET', '/api/conversations/c-long', { network: 'request:fail timeout' });
  await scrollToTop(page);
  assert.equal(page.text('.older-state'), '更早的消息加载失败，点击重试');
  await page.tap('.older-state');
  assert.equal(shownTexts(page).length, 60);
  assert.equal(page.text('.older-state'), '查看更早的消息');
});

test('a rating on a message of an older page is sent for that message and set by its path', async () => {
  const page = await openLong(40);
  await scrollToTop(page);
  const bars = page.findAll('.reply-actions');
  assert.equal(bars.length, 20);
  bars[0]?.querySelector('.rate-up')?.dispatchEvent('tap');
  await page.advance(50);
  const feedback = page.wx.jsonRequests.filter((r) => r.url.endsWith('/feedback'));
  assert.deepEqual(feedback.map((r) => new URL(r.url).pathname), ['/api/messages/a-2/feedback']);
  assert.ok(page.calls.some((call) => 'older.p1[1].rating' in call.data));
});

test('a conversation that fits one page shows no older-messages line', async () => {
  const page = await openLong(12);
  assert.equal(shownTexts(page).length, 12);
  assert.equal(page.exists('.older-state'), false);
});

test('the keyboard raises the dock (composer and pill) instead of pushing the page up', async () => {
  const page = await openLong(12);
  assert.equal(page.attr('.input', 'adjustPosition'), false);
  await page.scrollList(0, 4000);
  await page.scrollList(-100, 4000);
  assert.equal(page.exists('.dock .jump'), true, 'the pill sits on the dock');
  await page.dispatch('.input', 'keyboardheightchange', { height: 301.5, duration: 0.25 });
  assert.equal(page.data.keyboardHeight, 302);
  assert.equal(page.find('.keyboard-spacer')?.dom.getAttribute('style'), 'height: 302px');
  assert.match(page.find('.composer')?.dom.className ?? '', /composer-raised/);
  await page.dispatch('.input', 'keyboardheightchange', { height: 0, duration: 0.25 });
  assert.equal(page.find('.keyboard-spacer')?.dom.getAttribute('style'), 'height: 0px');
});

test('a reader at the bottom stays there when the keyboard rises', async () => {
  const page = await openLong(12);
  const before = page.data.scrollAnchor;
  await page.dispatch('.input', 'keyboardheightchange', { height: 280, duration: 0.25 });
  assert.notEqual(page.data.scrollAnchor, before);
  assert.match(String(page.data.scrollAnchor), /^bottom-/);
});
