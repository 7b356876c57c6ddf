/**
 * The share page (pages/share/share?id=…) in miniprogram-simulate: a snapshot read by anyone with the
 * link, without signing in; 开始我的对话; a revoked share; the owner's 取消分享.
 */
import assert from 'node:assert/strict';
import { test } from '@jest/globals';
import { afterThisTest } from './support/after-this-test.ts';
import { ChatPage } from './support/chat-page.ts';
import { storedMessage, type FakeBackend } from './support/fake-backend.ts';
import { FakeWx } from './support/fake-wx.ts';
import { SharePage } from './support/share-page.ts';

function seed(backend: FakeBackend, count = 2): void {
  const messages = [];
  for (let i = 1; i <= count; i++) {
    messages.push(storedMessage({ id: `m-${i}`, role: i % 2 === 1 ? 'user' : 'assistant', text: i === 2 ? '用 **enableChunked**：\n\n```js\nwx.request({})\n```' : `消息 ${i}` }));
  }
  backend.addConversation({ id: 'c-1', title: '流式输出', messages });
}

/** Shares conversation c-1 from the chat page, as its owner; returns the wx (storage) and the share id. */
async function shareFromChat(count = 2): Promise<{ wx: FakeWx; shareId: string }> {
  const chat = new ChatPage({ beforeLoad: (wx) => seed(wx.backend, count) });
  await chat.load({ conversationId: 'c-1' });
  const card = (chat.root.instance.onShareAppMessage as () => { promise?: Promise<{ path: string }> }).call(chat.root.instance);
  const made = await card.promise;
  chat.close();
  const shareId = new URL(`https://x${made?.path ?? ''}`).searchParams.get('id') ?? '';
  assert.notEqual(shareId, '');
  return { wx: chat.wx, shareId };
}

/** A stranger's phone: the same server, no storage, never signed in. */
function strangerWx(owner: FakeWx): FakeWx {
  const wx = new FakeWx();
  (wx as unknown as { backend: FakeBackend }).backend = owner.backend;
  return wx;
}

async function openShare(wx: FakeWx, shareId: string): Promise<SharePage> {
  const page = new SharePage({ wx });
  afterThisTest(() => page.close());
  await page.load({ id: shareId });
  return page;
}

test('a stranger reads the snapshot without signing in, rendered like the chat', async () => {
  const { wx: owner, shareId } = await shareFromChat();
  const wx = strangerWx(owner);
  const page = await openShare(wx, shareId);
  assert.equal(page.text('.title'), '流式输出');
  assert.deepEqual(page.bubbles(), ['消息 1', '用 enableChunked：\n\nwx.request({})'], 'Markdown rendered as on the chat page');
  assert.equal(page.text('.bubble >>> .md-strong'), 'enableChunked');
  assert.equal(page.text('.bubble >>> .code-lang'), 'js');
  assert.equal(wx.loginCalls, 0, 'no login to read a share');
  assert.equal(wx.jsonRequests[0]?.header?.Authorization, undefined, 'no token sent');
  assert.equal(page.exists('.revoke'), false, 'a stranger cannot revoke');
  assert.equal(page.exists('.input'), false, 'read-only: no composer');
  await page.tap('.start-chat');
  assert.deepEqual(wx.navigations, [{ api: 'reLaunch', url: '/pages/chat/chat' }]);
});

test('the page shares the same snapshot on, to chats and to Moments', async () => {
  const { wx: owner, shareId } = await shareFromChat();
  const wx = strangerWx(owner);
  const page = await openShare(wx, shareId);
  assert.deepEqual(wx.shareMenus, [['shareAppMessage', 'shareTimeline']], 'Moments switched on: reading needs no login');
  const instance = page.root.instance;
  assert.deepEqual((instance.onShareAppMessage as () => unknown).call(instance), { title: '流式输出', path: `/pages/share/share?id=${shareId}` });
  assert.deepEqual((instance.onShareTimeline as () => unknown).call(instance), { title: '流式输出', query: `id=${shareId}` });
});

test('a revoked or unknown share says so', async () => {
  const wx = new FakeWx();
  const page = await openShare(wx, 'AAAAAAAAAAAAAAAAAAAAAAAA');
  assert.equal(page.text('.state-message'), '这个分享已被取消或不存在。');
  assert.equal(page.exists('.start-chat'), true, 'the way into the app stays');
});

test('the owner revokes the share from its page; afterwards it is gone for everyone', async () => {
  const { wx, shareId } = await shareFromChat();
  const page = await openShare(wx, shareId);
  assert.equal(page.exists('.revoke'), true, 'offered on the phone that shared it');
  wx.modalAnswers.push({ confirm: true });
  await page.tap('.revoke');
  assert.equal(page.text('.state-message'), '已取消分享，别人将无法再打开这个链接。');
  assert.equal(wx.backend.shares.has(shareId), false);
  assert.deepEqual(wx.storage.get('wxstream.shares'), []);

  const later = await openShare(strangerWx(wx), shareId);
  assert.equal(later.text('.state-message'), '这个分享已被取消或不存在。');
});

test('revoking asks first; 保留 keeps the share', async () => {
  const { wx, shareId } = await shareFromChat();
  const page = await openShare(wx, shareId);
  wx.modalAnswers.push({ confirm: false });
  await page.tap('.revoke');
  assert.equal(wx.backend.shares.has(shareId), true);
  assert.equal(page.exists('.bubble'), true);
});

test('a long snapshot is shown a page per setData as the reader reaches the end', async () => {
  const { wx: owner, shareId } = await shareFromChat(75);
  const page = await openShare(strangerWx(owner), shareId);
  assert.equal(page.bubbles().length, 30);
  await page.reachEnd();
  await page.reachEnd();
  assert.equal(page.bubbles().length, 75);
  assert.equal(page.exists('.more'), false);
  for (const call of page.calls) {
    const carried = Object.entries(call.data).reduce((n, [key, value]) => n + (key === 'messages' && Array.isArray(value) ? value.length : /^messages\[\d+\]$/.test(key) ? 1 : 0), 0);
    assert.ok(carried <= 30, `a setData carried ${carried} messages`);
  }
});

test('a failure other than not-found offers 重试', async () => {
  const { wx: owner, shareId } = await shareFromChat();
  const wx = strangerWx(owner);
  owner.backend.answerNext('GET', `/api/shares/${shareId}`, { network: 'request:fail timeout' });
  const page = await openShare(wx, shareId);
  assert.equal(page.exists('.retry'), true);
  await page.tap('.retry');
  assert.equal(page.bubbles().length, 2);
});
