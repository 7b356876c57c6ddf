/**
 * Snapshots of the rendered pages — simulate's `toJSON()`, printed as WXML by its jest serializer — in
 * the states a reader sees: the empty chat, a reply being typed, reasoning opened, an error with 重试, a
 * reply read aloud, a stored conversation, and the history list (rows, empty, failed). The built page
 * and the official template compiler, as in every page test.
 *
 * Deterministic by construction: the fake clock starts at the same instant, replies and their byte
 * splits are fixed, the time zone is fixed by the jest set-up, and nothing random reaches the view.
 * A snapshot therefore changes only when a template or what the page shows changes — review the diff,
 * then `pnpm test -u`. What a state must contain is asserted too, so a careless `-u` cannot bless a
 * broken page.
 */
import assert from 'node:assert/strict';
import { expect, test } from '@jest/globals';
import { userMessageFor } from '@wxstream/protocol';
import { afterThisTest } from './support/after-this-test.ts';
import { ChatPage, type ChatPageOptions } from './support/chat-page.ts';
import { storedMessage } from './support/fake-backend.ts';
import type { FakeRequestTask } from './support/fake-wx.ts';
import { HistoryPage, type HistoryPageOptions } from './support/history-page.ts';
import { audioSegment, byteChunks, replyEvents, sseText, utf8, type ReplyScript } from './support/sse-stream.ts';

const REPLY = '流式回复的第一段，逐字出现。\n\n第二段：🇨🇳 表情也完整。\n\n最后一段，结束。';

function openChat(options?: ChatPageOptions): ChatPage {
  const page = new ChatPage(options);
  afterThisTest(() => page.close());
  return page;
}

function openHistory(options?: HistoryPageOptions): HistoryPage {
  const page = new HistoryPage(options);
  afterThisTest(() => page.close());
  return page;
}

function chunksOf(script: ReplyScript): ArrayBuffer[] {
  return byteChunks(utf8(sseText(replyEvents(script), { heartbeatEvery: 7 })));
}

/** Sends `message` and answers with `script`: all of it, or only the first `part` of its chunks. */
async function sendAndStream(page: ChatPage, message: string, script: ReplyScript, part = 1): Promise<FakeRequestTask> {
  await page.send(message);
  const task = page.wx.lastTask();
  const chunks = chunksOf(script);
  task.respond(200);
  await page.feed(task, chunks.slice(0, Math.round(chunks.length * part)));
  if (part === 1) {
    task.succeed();
    await page.advance(3000);
  }
  return task;
}

test('the empty chat page', () => {
  const page = openChat();
  assert.match(page.text('.empty'), /有什么可以帮你/);
  expect(page.root.toJSON()).toMatchSnapshot();
});

test('a reply half received: typed so far, the stop button instead of send', async () => {
  const page = openChat();
  await sendAndStream(page, '介绍一下流式输出', { text: REPLY }, 0.5);
  const typed = page.replyText();
  assert.ok(typed.length > 0 && typed.length < REPLY.length && REPLY.startsWith(typed), `partly typed: ${JSON.stringify(typed)}`);
  assert.equal(page.exists('.stop'), true);
  expect(page.root.toJSON()).toMatchSnapshot();
});

test('a finished reply with its reasoning panel opened', async () => {
  const page = openChat();
  await sendAndStream(page, '今天穿什么', { reasoning: '先确认城市，再看气温。', text: '建议穿外套。' });
  await page.tap('.reasoning-toggle');
  assert.equal(page.text('.reasoning-body'), '先确认城市，再看气温。');
  expect(page.root.toJSON()).toMatchSnapshot();
});

test('an error after partial text: the text kept, the Chinese message and 重试', async () => {
  const page = openChat();
  await sendAndStream(page, '解释一下量子计算', {
    text: '量子计算利用叠加态',
    error: { code: 'upstream_unavailable', message: 'provider returned 502 Bad Gateway', retryable: true },
  });
  assert.match(page.statusText(), new RegExp(userMessageFor('upstream_unavailable')));
  assert.equal(page.exists('.retry'), true);
  expect(page.root.toJSON()).toMatchSnapshot();
});

test('a reply read aloud: voice on, the text done and the reading not, so 停止朗读 is offered', async () => {
  const page = openChat();
  await page.tap('.voice-toggle');
  const spoken: ReplyScript = { text: '第一句话。\n\n第二段接着读。', deltas: 8, voice: true, audio: [audioSegment(0), audioSegment(1)] };
  await sendAndStream(page, '读给我听', spoken);
  assert.equal(page.text('.voice-toggle'), '朗读：开');
  assert.equal(page.exists('.audio-stop'), true);
  expect(page.root.toJSON()).toMatchSnapshot();
});

test('a stored conversation opened from the history, its endings marked', async () => {
  const page = openChat({
    beforeLoad: (wx) =>
      wx.backend.addConversation({
        id: 'c-9',
        title: '穿衣建议',
        messages: [
          storedMessage({ id: 's1', role: 'user', text: '今天穿什么' }),
          storedMessage({ id: 's2', role: 'assistant', text: '建议穿外套。', reasoning: '先看气温', finishReason: 'stop' }),
          storedMessage({ id: 's3', role: 'user', text: '写一首长诗' }),
          storedMessage({ id: 's4', role: 'assistant', text: '春眠不觉晓', status: 'stopped', finishReason: 'stopped' }),
        ],
      }),
  });
  await page.load({ conversationId: 'c-9' });
  assert.equal(page.text('.toolbar-title'), '穿衣建议');
  expect(page.root.toJSON()).toMatchSnapshot();
});

test('the history list: titles and relative times, newest first, nothing more to load', async () => {
  const page = openHistory({
    beforeLoad: (wx) => {
      const now = Date.now();
      wx.backend.addConversation({ id: 'old', title: '去年的计划', updatedAt: new Date(now - 400 * 86_400_000).toISOString() });
      wx.backend.addConversation({ id: 'new', title: '刚才的问题', updatedAt: new Date(now - 20_000).toISOString() });
      wx.backend.addConversation({ id: 'day', title: '', updatedAt: new Date(now - 26 * 3_600_000).toISOString() });
    },
  });
  await page.advance(0);
  assert.deepEqual(page.titles(), ['刚才的问题', '未命名对话', '去年的计划']);
  expect(page.root.toJSON()).toMatchSnapshot();
});

test('the history page with no conversations yet', async () => {
  const page = openHistory();
  await page.advance(0);
  assert.deepEqual(page.titles(), []);
  expect(page.root.toJSON()).toMatchSnapshot();
});
