/**
 * The reply action bar on the real chat page (miniprogram-simulate, WeChat's WXML compiler, the fake
 * `wx` and the in-memory server of support/fake-backend.ts): 复制, 👍 / 👎 with the optional comment,
 * 重新生成, 编辑 of the last question, the version switcher, the 分享 card and the follow-up chips.
 */
import assert from 'node:assert/strict';
import { test } from '@jest/globals';
import { afterThisTest } from './support/after-this-test.ts';
import { sentBody } from './support/chat-body.ts';
import { ChatPage } from './support/chat-page.ts';
import { storedMessage, type FakeBackend } from './support/fake-backend.ts';
import { byteChunks, replyEvents, sseText, utf8, type ReplyScript } from './support/sse-stream.ts';

const MARKDOWN = '## 步骤\n\n1. 打开 **enableChunked**\n2. 解码\n\n```js\nconst a = 1;\n```\n';

function seedTurn(backend: FakeBackend): void {
  backend.addConversation({
    id: 'c-1',
    title: '流式输出',
    messages: [storedMessage({ id: 'q-1', role: 'user', text: '怎么做流式输出？' }), storedMessage({ id: 'a-1', role: 'assistant', text: MARKDOWN })],
  });
}

async function openSeeded(seed: (backend: FakeBackend) => void = seedTurn): Promise<ChatPage> {
  const page = new ChatPage({ beforeLoad: (wx) => seed(wx.backend) });
  afterThisTest(() => page.close());
  await page.load({ conversationId: 'c-1' });
  return page;
}

/** Taps `selector` inside the action bar of the `n`-th finished reply (default: the last one). */
async function tapAction(page: ChatPage, selector: string, n?: number): Promise<void> {
  const bars = page.findAll('.reply-actions');
  const bar = bars[n ?? bars.length - 1];
  const target = bar?.querySelector(selector);
  if (!target) throw new Error(`no ${selector} in the action bar`);
  target.dispatchEvent('tap');
  await page.advance(50);
}

function actionText(page: ChatPage, selector: string): string {
  const bars = page.findAll('.reply-actions');
  return bars[bars.length - 1]?.querySelector(selector)?.dom.textContent?.trim() ?? '';
}

function pressed(page: ChatPage, selector: string): boolean {
  const bars = page.findAll('.reply-actions');
  return bars[bars.length - 1]?.querySelector(selector)?.dom.className.includes('pressed') ?? false;
}

async function stream(page: ChatPage, script: ReplyScript): Promise<void> {
  const task = page.wx.lastTask();
  task.respond(200);
  await page.feed(task, byteChunks(utf8(sseText(replyEvents(script)))));
  task.succeed();
  await page.advance(3000);
}

function lastBody(page: ChatPage): Record<string, unknown> {
  return sentBody(page.wx.lastTask());
}

function jsonRequests(page: ChatPage, method: string, pattern: RegExp): { url: string; data: unknown }[] {
  return page.wx.jsonRequests.filter((r) => (r.method ?? 'GET') === method && pattern.test(r.url)).map((r) => ({ url: r.url, data: r.data }));
}

test('复制 puts the reply’s Markdown source on the clipboard, exactly as the model wrote it', async () => {
  const page = await openSeeded();
  assert.equal(page.findAll('.reply-actions').length, 1, 'one finished reply, one action bar');
  await tapAction(page, '.copy');
  assert.deepEqual(page.wx.clipboard, [MARKDOWN]);
  assert.deepEqual(page.wx.toasts, ['已复制']);
});

test('a reply streamed on this visit gets its action bar once it ends, not while it streams', async () => {
  const page = new ChatPage();
  afterThisTest(() => page.close());
  await page.send('你好');
  const task = page.wx.lastTask();
  task.respond(200);
  const chunks = byteChunks(utf8(sseText(replyEvents({ text: '你好！有什么可以帮你？', messageId: 'a-9' }))));
  await page.feed(task, chunks.slice(0, 3));
  assert.equal(page.exists('.reply-actions'), false, 'no actions on a reply being written');
  await page.feed(task, chunks.slice(3));
  task.succeed();
  await page.advance(3000);
  assert.equal(page.exists('.reply-actions'), true);
  await tapAction(page, '.copy');
  assert.deepEqual(page.wx.clipboard, ['你好！有什么可以帮你？']);
});

test('👍 is saved at once and a second tap takes it back', async () => {
  const page = await openSeeded();
  await tapAction(page, '.rate-up');
  assert.equal(pressed(page, '.rate-up'), true);
  assert.deepEqual(jsonRequests(page, 'PUT', /\/api\/messages\/a-1\/feedback$/).map((r) => r.data), [{ rating: 'up' }]);
  assert.deepEqual((page.wx.backend.message('c-1', 'a-1') as { feedback?: unknown }).feedback, { rating: 'up', updatedAt: '2025-01-01T00:00:00.000Z' });

  await tapAction(page, '.rate-up');
  assert.equal(pressed(page, '.rate-up'), false);
  assert.deepEqual(jsonRequests(page, 'PUT', /feedback$/).map((r) => r.data), [{ rating: 'up' }, { rating: null }]);
  assert.equal((page.wx.backend.message('c-1', 'a-1') as { feedback?: unknown }).feedback, undefined);
});

test('👎 asks for an optional comment and sends it with the rating', async () => {
  const page = await openSeeded();
  page.wx.modalAnswers.push({ confirm: true, content: '  代码跑不起来  ' });
  await tapAction(page, '.rate-down');
  assert.equal(pressed(page, '.rate-down'), true);
  assert.equal(page.wx.modals[0]?.editable, true);
  assert.deepEqual(jsonRequests(page, 'PUT', /feedback$/).map((r) => r.data), [{ rating: 'down' }, { rating: 'down', comment: '代码跑不起来' }]);
  assert.deepEqual(page.wx.toasts, ['感谢反馈']);
});

test('a comment over 500 characters is not cut: the modal opens again with it', async () => {
  const page = await openSeeded();
  const long = '长'.repeat(501);
  page.wx.modalAnswers.push({ confirm: true, content: long }, { confirm: false });
  await tapAction(page, '.rate-down');
  assert.equal(page.wx.modals.length, 2);
  assert.equal(page.wx.modals[1]?.content, long, 'the second modal keeps what was written');
  assert.deepEqual(jsonRequests(page, 'PUT', /feedback$/).map((r) => r.data), [{ rating: 'down' }], 'no comment sent');
  assert.ok(page.wx.toasts.some((toast) => toast.includes('500')));
});

test('a rating the server refuses is taken back and the error shown', async () => {
  const page = await openSeeded();
  page.wx.backend.answerNext('PUT', '/api/messages/a-1/feedback', { network: 'request:fail timeout' });
  await tapAction(page, '.rate-up');
  assert.equal(pressed(page, '.rate-up'), false);
  assert.equal(page.wx.toasts.length, 1);
});

test('重新生成 streams a new version of the last reply in its bubble; the switcher then shows 2/2', async () => {
  const page = await openSeeded();
  assert.equal(actionText(page, '.regenerate'), '重新生成');
  await tapAction(page, '.regenerate');
  assert.deepEqual(lastBody(page), { conversationId: 'c-1', regenerate: true });
  assert.equal(page.findAll('.row').length, 2, 'no new bubbles: the reply starts over in place');
  assert.equal(page.exists('.reply-actions'), false, 'no actions while it streams');

  // What the server stores for the new version, read back by the page once the reply ends.
  page.wx.backend.addVersion('c-1', storedMessage({ id: 'q-1', role: 'user', text: '怎么做流式输出？' }), storedMessage({ id: 'a-2', role: 'assistant', text: '第二个版本' }));
  await stream(page, { text: '第二个版本', conversationId: 'c-1', messageId: 'a-2' });
  assert.equal(page.replyText(), '第二个版本');
  assert.equal(actionText(page, '.version-label'), '2/2');
});

test('only the last reply offers 重新生成', async () => {
  const page = await openSeeded((backend) =>
    backend.addConversation({
      id: 'c-1',
      title: '两轮',
      messages: [
        storedMessage({ id: 'q-1', role: 'user', text: '一' }),
        storedMessage({ id: 'a-1', role: 'assistant', text: '一的回答' }),
        storedMessage({ id: 'q-2', role: 'user', text: '二' }),
        storedMessage({ id: 'a-2', role: 'assistant', text: '二的回答' }),
      ],
    }),
  );
  const bars = page.findAll('.reply-actions');
  assert.equal(bars.length, 2);
  assert.equal(bars[0]?.querySelector('.regenerate'), undefined);
  assert.ok(bars[1]?.querySelector('.regenerate'));
});

test('the version switcher shows the other version in place, question and reply', async () => {
  const page = await openSeeded((backend) => {
    seedTurn(backend);
    backend.addVersion('c-1', storedMessage({ id: 'q-2', role: 'user', text: '改过的问题' }), storedMessage({ id: 'a-2', role: 'assistant', text: '改过的回答' }));
  });
  assert.equal(actionText(page, '.version-label'), '2/2');
  assert.deepEqual(page.findAll('.answer').map((a) => a.dom.textContent), ['改过的问题', '改过的回答']);

  await tapAction(page, '.version-prev');
  assert.equal(jsonRequests(page, 'PUT', /\/messages\/a-1\/current$/).length, 1);
  assert.equal(actionText(page, '.version-label'), '1/2');
  assert.equal(page.findAll('.answer')[0]?.dom.textContent, '怎么做流式输出？');
  assert.equal(page.text('.answer >>> .code-line'), 'const a = 1;');
  const switched = page.calls[page.calls.length - 1]?.data ?? {};
  assert.deepEqual(Object.keys(switched).sort(), ['messages[0]', 'messages[1]'], 'only the turn is sent');

  await tapAction(page, '.version-next');
  assert.equal(actionText(page, '.version-label'), '2/2');
  assert.equal(page.findAll('.answer')[1]?.dom.textContent, '改过的回答');
});

test('编辑 puts the last question back in the composer; sending replaces the turn with a new version', async () => {
  const page = await openSeeded();
  assert.equal(page.findAll('.question-edit').length, 1, 'only the last question');
  await page.tap('.question-edit');
  assert.equal(page.data.draft, '怎么做流式输出？');
  assert.equal(page.exists('.editing-bar'), true);

  await page.type('怎么在小程序里做流式输出？');
  await page.tap('.send');
  assert.deepEqual(lastBody(page), { conversationId: 'c-1', message: '怎么在小程序里做流式输出？', editOf: 'q-1' });
  assert.equal(page.findAll('.row').length, 2, 'the turn is replaced, not appended');
  assert.equal(page.findAll('.answer')[0]?.dom.textContent, '怎么在小程序里做流式输出？');
  assert.equal(page.exists('.editing-bar'), false);
});

test('取消 leaves editing and the next send is a new turn', async () => {
  const page = await openSeeded();
  await page.tap('.question-edit');
  await page.tap('.editing-cancel');
  assert.equal(page.exists('.editing-bar'), false);
  await page.tap('.send');
  assert.deepEqual(lastBody(page), { message: '怎么做流式输出？', conversationId: 'c-1' });
  assert.equal(page.findAll('.row').length, 4);
});

test('a question sent on this visit can be edited once its turn has been read back', async () => {
  const page = await openSeeded();
  await page.send('再举个例子');
  page.wx.backend.appendTurn('c-1', storedMessage({ id: 'q-3', role: 'user', text: '再举个例子' }), storedMessage({ id: 'a-3', role: 'assistant', text: '例子' }));
  await stream(page, { text: '例子', conversationId: 'c-1', messageId: 'a-3' });
  assert.ok(jsonRequests(page, 'GET', /\/api\/conversations\/c-1\?limit=2$/).length >= 1, 'the turn is read back');
  await page.tap('.question-edit');
  await page.type('再举两个例子');
  await page.tap('.send');
  assert.deepEqual(lastBody(page), { conversationId: 'c-1', message: '再举两个例子', editOf: 'q-3' });
});

test('分享 hands WeChat a card at once and the snapshot’s share page when the server has made it', async () => {
  const page = await openSeeded();
  const share = page.root.instance.onShareAppMessage as () => { title: string; path: string; promise?: Promise<{ title: string; path: string }> };
  const card = share.call(page.root.instance);
  assert.equal(card.title, '流式输出');
  assert.equal(card.path, '/pages/chat/chat', 'the fallback opens a new chat, not this one');
  const made = await card.promise;
  const [shareId] = [...page.wx.backend.shares.keys()];
  assert.ok(shareId);
  assert.deepEqual(made, { title: '流式输出', path: `/pages/share/share?id=${shareId}` });
  assert.deepEqual(page.wx.storage.get('wxstream.shares'), [shareId], 'remembered so its page offers 取消分享');
  assert.equal(page.root.instance.onShareTimeline, undefined, 'a chat cannot sign in from Moments');
});

test('a new, unsent conversation shares the app without making a snapshot', async () => {
  const page = new ChatPage();
  afterThisTest(() => page.close());
  const card = (page.root.instance.onShareAppMessage as () => { path: string; promise?: unknown }).call(page.root.instance);
  assert.equal(card.path, '/pages/chat/chat');
  assert.equal(card.promise, undefined);
});
test('follow-up suggestions appear as chips under the last reply; tapping one sends it', async () => {
  const page = await openSeeded();
  await page.send('再说说');
  await stream(page, { text: '好的。', conversationId: 'c-1', messageId: 'a-5', suggestions: ['解码怎么做？', 'setData 多快合适？'] });
  const chips = page.findAll('.suggestions');
  assert.equal(chips.length, 1);
  const items = chips[0]?.querySelectorAll('.chip') ?? [];
  assert.deepEqual(items.map((chip) => chip.dom.textContent), ['解码怎么做？', 'setData 多快合适？']);
  items[1]?.dispatchEvent('tap');
  await page.advance(50);
  assert.deepEqual(lastBody(page), { message: 'setData 多快合适？', conversationId: 'c-1' });
  assert.equal(page.exists('.suggestions'), false, 'the chips go when the next question is sent');
});

test('a new conversation shows the title the server made after its first reply', async () => {
  const page = new ChatPage();
  afterThisTest(() => page.close());
  await page.send('天空为什么是蓝色的？');
  page.wx.backend.addConversation({
    id: 'c-1',
    title: '天空为什么是蓝色的？',
    messages: [storedMessage({ id: 'q-1', role: 'user', text: '天空为什么是蓝色的？' }), storedMessage({ id: 'a-1', role: 'assistant', text: '因为瑞利散射。' })],
  });
  await stream(page, { text: '因为瑞利散射。', conversationId: 'c-1', messageId: 'a-1' });
  assert.equal(page.text('.toolbar-title'), '天空为什么是蓝色的？', 'the first message until the model has titled it');
  page.wx.backend.setTitle('c-1', '天空的颜色');
  await page.advance(5_000);
  assert.equal(page.text('.toolbar-title'), '天空的颜色');
  const lookups = page.wx.jsonRequests.filter((r) => r.url.endsWith('/api/conversations/c-1?limit=1'));
  assert.equal(lookups.length, 1, 'looked up once');
});

test('leaving the page before the title look-up leaves no timer behind', async () => {
  const page = new ChatPage();
  afterThisTest(() => page.close());
  await page.send('你好');
  page.wx.backend.addConversation({ id: 'c-1', title: '你好', messages: [storedMessage({ id: 'q-1', role: 'user', text: '你好' }), storedMessage({ id: 'a-1', role: 'assistant', text: '你好！' })] });
  await stream(page, { text: '你好！', conversationId: 'c-1', messageId: 'a-1' });
  assert.equal(page.timers.pending() > 0, true, 'the look-up is scheduled');
  page.detach();
  assert.equal(page.timers.pending(), 0);
});

test('a stored last reply that failed for good offers 重新生成, which makes it again', async () => {
  const page = await openSeeded((backend) =>
    backend.addConversation({
      id: 'c-1',
      title: '不完整',
      messages: [storedMessage({ id: 'q-1', role: 'user', text: '写一首诗' }), storedMessage({ id: 'a-1', role: 'assistant', text: '春眠', status: 'error', errorCode: 'upstream_error' })],
    }),
  );
  assert.equal(page.exists('.reply-actions'), false, 'no action bar on an incomplete reply');
  assert.equal(page.exists('.retry'), false);
  await page.tap('.regenerate-failed');
  assert.deepEqual(lastBody(page), { conversationId: 'c-1', regenerate: true });
  assert.equal(page.findAll('.row').length, 2);
});
