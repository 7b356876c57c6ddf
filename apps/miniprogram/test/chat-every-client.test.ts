/**
 * The chat page on every WeChat client, in miniprogram-simulate with the fake `wx`: Windows and Mac WeChat
 * (no chunks) get their replies by polling; a phone whose stream shows nothing switches to polling without
 * a second turn; 停止 before `start` names the request at once and the next message waits for it; 重试
 * of a send that never started sends the same request; an audio interruption holds the sentence being
 * read; a reply from the history and an expired 重播 are spoken through the speech route.
 */
import assert from 'node:assert/strict';
import { test } from '@jest/globals';
import { POLL_QUERY, type ReplyEvent } from '@wxstream/protocol';
import { afterThisTest } from './support/after-this-test.ts';
import { requestIdOf, sentBody } from './support/chat-body.ts';
import { ChatPage, type ChatPageOptions } from './support/chat-page.ts';
import { storedMessage } from './support/fake-backend.ts';
import type { FakeRequestTask } from './support/fake-wx.ts';
import { audioSegment, byteChunks, replyEvents, sseText, utf8 } from './support/sse-stream.ts';

const REPLY = '第一段回复，先到的部分。\n\n第二段回复，后到的部分。';

function openPage(options?: ChatPageOptions): ChatPage {
  const page = new ChatPage(options);
  afterThisTest(() => page.close());
  return page;
}

function pathOf(task: FakeRequestTask): string {
  return new URL(task.options.url).pathname;
}

function queryOf(task: FakeRequestTask): URLSearchParams {
  return new URL(task.options.url).searchParams;
}

/** Turns voice on, sends a message and streams a whole reply spoken in `segments` segments; reading starts. */
async function spokenReply(page: ChatPage, segments: number): Promise<FakeRequestTask> {
  await page.tap('.voice-toggle');
  await page.send('读给我听');
  const task = page.wx.lastTask();
  task.respond(200);
  const audio = Array.from({ length: segments }, (_, index) => audioSegment(index));
  await page.feed(task, byteChunks(utf8(sseText(replyEvents({ text: REPLY, voice: true, audio })))));
  task.succeed();
  await page.advance(100);
  return task;
}

/** Answers polls of the reply's events in two batches, as the server would while the reply is written. */
async function answerPolls(page: ChatPage, events: readonly ReplyEvent[]): Promise<void> {
  const half = Math.floor(events.length / 2);
  const first = page.wx.lastTask();
  assert.equal(first.options.method, 'GET');
  assert.equal(pathOf(first), '/api/chat/r-1/events');
  assert.equal(queryOf(first).get(POLL_QUERY), '1');
  assert.equal(queryOf(first).get('lastEventId'), '0');
  assert.equal(first.options.enableChunked, false, 'a poll is read whole, on any base library');
  first.succeedWhole(200, sseText(events.slice(0, half)));
  await page.advance(1000);
  assert.ok(page.replyText().length > 0, 'the first batch is typed out before the reply ends');
  const second = page.wx.lastTask();
  assert.notEqual(second, first);
  assert.equal(queryOf(second).get('lastEventId'), String(events[half - 1]?.id), 'the next poll asks for what follows');
  second.succeedWhole(200, sseText(events.slice(half)));
  await page.advance(5000);
}

test('on Windows WeChat a reply is polled: 202, then batches typed out, complete, with one request per batch', async () => {
  const page = openPage({ beforeLoad: (wx) => (wx.platform = 'windows') });
  await page.send('你好');
  const post = page.wx.lastTask();
  assert.equal(post.options.method, 'POST');
  assert.equal(sentBody(post).delivery, 'poll');
  assert.equal(post.options.enableChunked, false);
  post.succeedWhole(202, JSON.stringify({ messageId: 'r-1', conversationId: 'c-1' }), { 'Content-Type': 'application/json' });
  await page.advance(0);
  await answerPolls(page, replyEvents({ text: REPLY, deltas: 10 }));
  assert.equal(page.replyText(), REPLY);
  assert.equal(page.exists('.stop'), false);
  assert.equal(page.wx.chatTasks.filter((task) => task.options.method === 'POST').length, 1, 'one chat request, one turn');
});

test('a phone whose stream shows neither a header nor a byte for 5 s polls the same request instead', async () => {
  const page = openPage();
  await page.send('你好');
  const stream = page.wx.lastTask();
  assert.equal(stream.options.enableChunked, true);
  const requestId = requestIdOf(stream);
  await page.advance(4900);
  assert.equal(page.wx.lastTask(), stream, 'a stream that is merely slow is given its time');
  await page.advance(200);
  const repeat = page.wx.lastTask();
  assert.notEqual(repeat, stream);
  assert.equal(repeat.options.method, 'POST');
  assert.deepEqual(sentBody(repeat), { message: '你好', delivery: 'poll' });
  assert.equal(requestIdOf(repeat), requestId, 'the same request: the server answers the turn it started, not a new one');
  assert.equal(stream.aborted, false, 'the first request is left running, so the server does not take it for a client that left');
  repeat.succeedWhole(202, JSON.stringify({ messageId: 'r-1', conversationId: 'c-1' }), { 'Content-Type': 'application/json' });
  await page.advance(0);
  await answerPolls(page, replyEvents({ text: REPLY, deltas: 10 }));
  assert.equal(page.replyText(), REPLY);
  // The first request's whole body arriving at last changes nothing.
  stream.succeedWhole(200, sseText(replyEvents({ text: REPLY })));
  await page.advance(1000);
  assert.equal(page.replyText(), REPLY);
});

test('停止 before the reply started stops it by its requestId at once; the next message waits for that stop', async () => {
  const page = openPage();
  page.wx.holdStops();
  await page.send('马上停');
  const first = page.wx.lastTask();
  await page.advance(100);
  await page.tap('.stop');
  assert.equal(page.wx.stopRequests.length, 1, 'the server is told before the reply has an id');
  assert.equal(new URL(page.wx.stopRequests[0]?.url ?? '').pathname, `/api/chat/requests/${requestIdOf(first)}/stop`);
  assert.equal(first.aborted, false, 'left open, so the server ends the reply stopped rather than dropping the turn');
  await page.advance(100);
  assert.equal(page.statusText(), '已停止');

  await page.send('再问一次');
  assert.equal(page.wx.lastTask(), first, 'not sent while the server is still ending the stopped reply (it would be refused)');
  page.wx.releaseStops();
  await page.advance(0);
  const next = page.wx.lastTask();
  assert.notEqual(next, first);
  assert.equal(sentBody(next).message, '再问一次');
  assert.notEqual(requestIdOf(next), requestIdOf(first));
});

test('重试 of a send that failed before its reply started sends the same requestId; after a started reply, a new one', async () => {
  const page = openPage();
  await page.send('网络不好');
  const lost = page.wx.lastTask();
  lost.failNetwork();
  await page.advance(1000);
  assert.equal(page.exists('.retry'), true);
  await page.tap('.retry');
  const again = page.wx.lastTask();
  assert.notEqual(again, lost);
  assert.equal(requestIdOf(again), requestIdOf(lost), 'maybe committed before the network failed: the same request');

  again.respond(200);
  await page.feed(again, byteChunks(utf8(sseText(replyEvents({ text: '半', error: { code: 'upstream_error', message: 'x', retryable: true } })))));
  again.succeed();
  await page.advance(3000);
  await page.tap('.retry');
  assert.notEqual(requestIdOf(page.wx.lastTask()), requestIdOf(again), 'a reply that started and failed is asked for anew');
});

test('an audio interruption holds the sentence being read; when it ends, that sentence goes on from where it was', async () => {
  const page = openPage();
  await spokenReply(page, 2);
  const reading = page.wx.audio.current();
  reading.canplay();
  reading.advanceTo(1.2);
  page.wx.beginAudioInterruption();
  await page.advance(0);
  assert.equal(reading.pauseCalls, 1);
  assert.equal(page.exists('.audio-resume'), true, '继续朗读 is offered while it is held');
  await page.advance(10 * 60_000);
  assert.equal(reading.destroyed, false, 'a long call does not skip the sentence');
  page.wx.endAudioInterruption();
  await page.advance(0);
  assert.equal(reading.playCalls, 2, 'the same player plays on from its position');
  assert.equal(page.wx.audio.current(), reading);
  assert.equal(page.exists('.audio-stop'), true);
});

test('an interruption that ends while the page is hidden leaves 继续朗读, which reads on from the held sentence', async () => {
  const page = openPage();
  await spokenReply(page, 1);
  const reading = page.wx.audio.current();
  page.wx.beginAudioInterruption();
  page.hide();
  page.wx.endAudioInterruption();
  await page.advance(0);
  assert.equal(reading.playCalls, 1, 'nothing plays behind a hidden page');
  page.show();
  await page.advance(0);
  assert.equal(page.exists('.audio-resume'), true);
  await page.tap('.audio-resume');
  assert.equal(reading.playCalls, 2);
});

test('a reply reopened from the history is spoken through the speech route', async () => {
  const page = openPage({
    beforeLoad: (wx) =>
      wx.backend.addConversation({
        id: 'c-7',
        title: '旧对话',
        messages: [storedMessage({ id: 's1', role: 'user', text: '讲个故事' }), storedMessage({ id: 's2', role: 'assistant', text: '从前有座山。', finishReason: 'stop' })],
      }),
  });
  await page.load({ conversationId: 'c-7' });
  assert.equal(page.exists('.speak'), true, '朗读 under a stored reply');
  assert.match(page.text('.ai-mark'), /内容由 AI 生成/);
  await page.tap('.speak');
  const speech = page.wx.lastTask();
  assert.equal(speech.options.method, 'POST');
  assert.equal(pathOf(speech), '/api/messages/s2/speech');
  speech.respond(200);
  const events: ReplyEvent[] = [
    { id: 1, type: 'audio', data: audioSegment(0, '从前有座山。') },
    { id: 2, type: 'done', data: { finishReason: 'stop' } },
  ];
  await page.feed(speech, byteChunks(utf8(sseText(events))));
  speech.succeed();
  await page.advance(100);
  const player = page.wx.audio.current();
  assert.match(player.src, /\/api\/audio\/seg-0\?/);
  assert.equal(page.exists('.audio-stop'), true);
  player.canplay();
  player.end();
  await page.advance(100);
  assert.equal(page.exists('.replay'), true);
});

test('重播 after the audio links expired asks the speech route for fresh ones', async () => {
  const page = openPage();
  const task = await spokenReply(page, 1);
  page.wx.audio.current().end();
  await page.advance(100);
  await page.tap('.replay');
  assert.equal(page.wx.lastTask(), task, 'fresh links replay at once');
  page.wx.audio.current().end();
  await page.advance(10 * 60_000);
  await page.tap('.replay');
  const speech = page.wx.lastTask();
  assert.equal(pathOf(speech), '/api/messages/r-1/speech');
});
