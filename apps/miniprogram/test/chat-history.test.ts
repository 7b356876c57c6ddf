/**
 * The chat page with stored conversations, in miniprogram-simulate with the official WXML compiler:
 * opened with a conversation id it shows the stored messages and continues that conversation; the
 * toolbar leads to the history page and starts a new conversation. Conversation routes are answered by
 * the in-memory server of support/fake-backend.ts; chat streams by test-driven request tasks.
 */
import assert from 'node:assert/strict';
import { test } from '@jest/globals';
import { afterThisTest } from './support/after-this-test.ts';
import { errorBody, userMessageFor } from '@wxstream/protocol';
import { storedMessage, type FakeBackend } from './support/fake-backend.ts';
import { ChatPage } from './support/chat-page.ts';
import { HistoryPage } from './support/history-page.ts';
import type { FakeWx } from './support/fake-wx.ts';
import { byteChunks, replyEvents, sseText, utf8 } from './support/sse-stream.ts';
import { sentBody } from './support/chat-body.ts';

function seedWeather(backend: FakeBackend): void {
  backend.addConversation({
    id: 'c-9',
    title: '穿衣建议',
    messages: [
      storedMessage({ id: 's1', role: 'user', text: '今天穿什么' }),
      storedMessage({ id: 's2', role: 'assistant', text: '建议穿外套。\n\n```\n最高 12℃\n```', reasoning: '先看气温', finishReason: 'stop' }),
      storedMessage({ id: 's3', role: 'user', text: '写一首长诗' }),
      storedMessage({ id: 's4', role: 'assistant', text: '春眠不觉晓', status: 'stopped', finishReason: 'stopped' }),
      storedMessage({ id: 's5', role: 'user', text: '再解释一下' }),
      storedMessage({ id: 's6', role: 'assistant', text: '因为', status: 'error', errorCode: 'upstream_error' }),
      storedMessage({ id: 's7', role: 'user', text: '不合适的问题' }),
      storedMessage({ id: 's8', role: 'assistant', text: '', status: 'blocked', errorCode: 'content_blocked' }),
    ],
  });
}

function openChat(options: { wx?: FakeWx; seed?: (backend: FakeBackend) => void } = {}): ChatPage {
  const page = new ChatPage({ wx: options.wx, beforeLoad: (wx) => options.seed?.(wx.backend) });
  afterThisTest(() => page.close());
  return page;
}

function bodyOf(page: ChatPage): unknown {
  return sentBody(page.wx.lastTask());
}

/** The text of every bubble's answer (without reasoning panels and code-language labels). */
function bubbles(page: ChatPage): string[] {
  return page.answers();
}

function statusLines(page: ChatPage): string[] {
  return page.findAll('.status').map((line) => line.dom.textContent?.replace(/\s+/g, ' ').trim() ?? '');
}

async function finishReply(page: ChatPage, text: string): Promise<void> {
  const task = page.wx.lastTask();
  task.respond(200);
  await page.feed(task, byteChunks(utf8(sseText(replyEvents({ text })))));
  task.succeed();
  await page.advance(3000);
}

test('a stored conversation is shown with one setData, stored endings marked in Chinese', async () => {
  const page = openChat({ seed: seedWeather });
  await page.load({ conversationId: 'c-9' });

  assert.equal(page.text('.toolbar-title'), '穿衣建议');
  assert.deepEqual(bubbles(page), ['今天穿什么', '建议穿外套。\n\n最高 12℃', '写一首长诗', '春眠不觉晓', '再解释一下', '因为', '不合适的问题', '']);
  assert.equal(page.text('.answer >>> .code-lang'), '代码', 'a fence without a language is labelled 代码');
  assert.deepEqual(statusLines(page), ['', '已停止', '回复不完整', '内容不合规已屏蔽']);
  assert.equal(page.exists('.retry'), false, 'a stored failure offers no retry');
  assert.equal(page.exists('.empty'), false);

  const listCalls = page.calls.filter((call) => 'messages' in call.data);
  assert.equal(listCalls.length, 1, 'the messages are set once, when loaded');
  assert.equal((listCalls[0]?.data.messages as unknown[]).length, 8);
  assert.equal(page.calls.some((call) => JSON.stringify(call.data).includes('先看气温')), false, 'reasoning stays off the bridge');
  await page.tap('.reasoning-toggle');
  assert.equal(page.text('.reasoning-body'), '先看气温');
});

test('the next message continues the stored conversation and streams by path keys', async () => {
  const page = openChat({ seed: seedWeather });
  await page.load({ conversationId: 'c-9' });
  const before = page.calls.length;
  await page.send('那明天呢');
  assert.deepEqual(bodyOf(page), { message: '那明天呢', conversationId: 'c-9' });
  await finishReply(page, '明天转晴，可以穿薄一点。');
  assert.equal(page.replyText(), '明天转晴，可以穿薄一点。');
  assert.equal(bubbles(page).length, 10);
  for (const call of page.calls.slice(before)) {
    assert.equal('messages' in call.data, false, `the list is not resent: ${Object.keys(call.data).join(', ')}`);
  }
});

test('from the history page: tapping a conversation opens it in the chat page, which continues it', async () => {
  const history = new HistoryPage({
    beforeLoad: (wx) => {
      wx.backend.addConversations(3);
      seedWeather(wx.backend);
    },
  });
  await history.advance(0);
  const row = history.titles().indexOf('穿衣建议');
  assert.ok(row >= 0);
  await history.tapRow(row);
  const navigation = history.wx.navigations[0];
  assert.equal(navigation?.api, 'reLaunch');
  // reLaunch closes every page before it opens the chat page with the query.
  history.close();

  const chat = openChat({ wx: history.wx });
  const query = Object.fromEntries(new URLSearchParams(navigation?.url.split('?')[1] ?? ''));
  await chat.load(query);
  assert.equal(bubbles(chat)[0], '今天穿什么');
  await chat.send('继续');
  assert.deepEqual(bodyOf(chat), { message: '继续', conversationId: 'c-9' });
  assert.equal(chat.wx.loginCalls, 1, 'the token from the history page is reused');
});

test('nothing can be sent while the conversation loads', async () => {
  const page = openChat({ seed: seedWeather });
  page.wx.holdJson();
  await page.load({ conversationId: 'c-9' });
  assert.equal(page.text('.load-state'), '正在加载对话…');
  await page.type('抢先发送');
  assert.equal(page.attr('.send', 'disabled'), true);
  await page.tap('.send');
  assert.equal(page.wx.chatTasks.length, 0);

  page.wx.releaseJson();
  await page.advance(0);
  assert.equal(page.exists('.load-state'), false);
  assert.equal(page.attr('.send', 'disabled'), false, 'the draft can go once the messages are shown');
});

test('a conversation that does not exist says so and offers a new one, without its id', async () => {
  const page = openChat({ seed: (backend) => backend.addConversation({ id: 'theirs', title: '别人的', owner: 'user-2' }) });
  await page.load({ conversationId: 'theirs' });
  assert.equal(page.text('.load-error'), '这个对话不存在或已被删除。');
  assert.equal(page.exists('.load-retry'), false);
  assert.equal(page.root.dom.textContent?.includes('别人的'), false);
  await page.type('你好');
  assert.equal(page.attr('.send', 'disabled'), true);

  await page.tap('.load-new-chat');
  assert.equal(page.exists('.load-error'), false);
  assert.match(page.text('.empty'), /有什么可以帮你/);
  assert.equal(page.attr('.send', 'disabled'), false, 'the draft survives');
  await page.tap('.send');
  assert.deepEqual(bodyOf(page), { message: '你好' });
});

test('a failed load that retrying may fix offers retry, which loads the conversation', async () => {
  const page = openChat({
    seed: (backend) => {
      seedWeather(backend);
      backend.answerNext('GET', '/api/conversations/c-9', { statusCode: 502, data: errorBody('upstream_unavailable', 'x') });
    },
  });
  await page.load({ conversationId: 'c-9' });
  assert.equal(page.text('.load-error'), userMessageFor('upstream_unavailable'));
  await page.tap('.load-retry');
  assert.equal(page.exists('.load-error'), false);
  assert.equal(bubbles(page).length, 8);
});

test('新对话 clears the page, but not while a reply streams', async () => {
  const page = openChat({ seed: seedWeather });
  await page.load({ conversationId: 'c-9' });
  await page.send('还有吗');
  assert.equal(page.attr('.new-chat', 'disabled'), true);
  assert.equal(page.attr('.history-entry', 'disabled'), true);
  await page.tap('.new-chat');
  await page.tap('.history-entry');
  assert.equal(bubbles(page).length, 10, 'the streaming conversation stays');
  assert.deepEqual(page.wx.navigations, []);

  await finishReply(page, '没有了。');
  assert.equal(page.attr('.new-chat', 'disabled'), false);
  await page.tap('.new-chat');
  assert.deepEqual(bubbles(page), []);
  assert.equal(page.text('.toolbar-title'), '');
  assert.match(page.text('.empty'), /有什么可以帮你/);
  await page.send('新话题');
  assert.deepEqual(bodyOf(page), { message: '新话题' }, 'a new conversation carries no id');
  await finishReply(page, '好的。');
  assert.deepEqual(bubbles(page), ['新话题', '好的。']);
});

test('历史 opens the history page on top of the chat', async () => {
  const page = openChat();
  await page.tap('.history-entry');
  assert.deepEqual(page.wx.navigations, [{ api: 'navigateTo', url: '/pages/history/history' }]);
});
