/**
 * The chat page keeping a reply alive across broken connections, in miniprogram-simulate with the fake
 * `wx`: the RequestTask is cut mid-reply (mid-event, mid-character) and the page must pick the reply
 * up from the events route with the right `lastEventId`, by itself, on app show and on network change;
 * stop must reach the server; a reply cut by the length limit offers 继续.
 */
import assert from 'node:assert/strict';
import { test } from '@jest/globals';
import { afterThisTest } from './support/after-this-test.ts';
import { errorBody, formatSseEvent, LAST_EVENT_ID_QUERY, type ReplyEvent } from '@wxstream/protocol';
import { DEFAULT_RESUME_ATTEMPTS, RESUME_EXPIRED_MESSAGE } from '@wxstream/client';
import { ChatPage } from './support/chat-page.ts';
import type { FakeRequestTask } from './support/fake-wx.ts';
import { byteChunks, replyEvents, utf8 } from './support/sse-stream.ts';
import { requestIdOf, sentBody } from './support/chat-body.ts';

const REPLY = '断线也不怕：这段回复会在连接中断后从中断处继续，👨‍👩‍👧 一个字都不重复。\n\n第二段 🇨🇳 也完整。\n\n最后一段，结束。';
const EVENTS = replyEvents({ text: REPLY, deltas: 30 });
assert.ok(EVENTS.length > 20, 'enough events to cut the reply twice in its middle');

function openPage(): ChatPage {
  const page = new ChatPage();
  afterThisTest(() => page.close());
  return page;
}

function wire(events: readonly ReplyEvent[]): Uint8Array {
  return utf8(events.map(formatSseEvent).join(''));
}

/** Streams events [from, to) and then half of event `to` (cut inside it), so its id is not applied. */
async function streamThenCutInside(page: ChatPage, task: FakeRequestTask, from: number, to: number): Promise<void> {
  const whole = wire(EVENTS.slice(from, to));
  const half = wire(EVENTS.slice(to, to + 1));
  const bytes = new Uint8Array(whole.length + (half.length >> 1));
  bytes.set(whole);
  bytes.set(half.subarray(0, half.length >> 1), whole.length);
  task.respond(200);
  await page.feed(task, byteChunks(bytes));
}

/** Asserts `task` is the events route of reply r-1 after `lastEventId`, sent as the signed-in user. */
function assertResumeRequest(task: FakeRequestTask, lastEventId: number): void {
  const url = new URL(task.options.url);
  assert.equal(task.options.method, 'GET');
  assert.equal(url.pathname, '/api/chat/r-1/events');
  assert.equal(url.searchParams.get(LAST_EVENT_ID_QUERY), String(lastEventId));
  assert.equal(task.options.header?.['Last-Event-ID'], String(lastEventId));
  assert.equal(task.options.header?.Authorization, 'Bearer token-1');
}

async function finishFrom(page: ChatPage, task: FakeRequestTask, from: number): Promise<void> {
  task.respond(200);
  await page.feed(task, byteChunks(wire(EVENTS.slice(from))));
  task.succeed();
  await page.advance(3000);
}

test('a reply cut twice mid-event resumes by itself from the events route and ends exactly equal to the full reply', async () => {
  const page = openPage();
  await page.send('讲讲断线续传');
  const first = page.wx.lastTask();
  await streamThenCutInside(page, first, 0, 12);
  first.failNetwork();
  await page.advance(1000);
  assert.equal(page.wx.chatTasks.length, 2, 'one request to continue, after a short backoff');
  const second = page.wx.lastTask();
  assertResumeRequest(second, 12);
  assert.equal(page.statusText(), '', 'no error shown while reconnecting');
  assert.equal(page.exists('.stop'), true, 'still streaming');

  await streamThenCutInside(page, second, 12, 18);
  // WeChat's ~60 s cut: the request "succeeds" without a terminal event.
  second.succeed();
  await page.advance(1000);
  const third = page.wx.lastTask();
  assertResumeRequest(third, 18);
  await finishFrom(page, third, 18);

  assert.equal(page.replyText(), REPLY);
  assert.equal(page.statusText(), '');
  assert.equal(page.exists('.stop'), false);
  assert.equal(page.wx.chatTasks.length, 3);
  assert.equal(page.timers.pending(), 0);
});

test('coming back to the app resumes a broken reply at once, without waiting for the backoff', async () => {
  const page = openPage();
  await page.send('后台也继续');
  const first = page.wx.lastTask();
  await streamThenCutInside(page, first, 0, 10);
  page.hide();
  first.failNetwork('request:fail interrupted');
  await page.advance(0);
  page.wx.showApp();
  page.show();
  await page.advance(0);
  assert.equal(page.wx.chatTasks.length, 2);
  assertResumeRequest(page.wx.lastTask(), 10);
  await finishFrom(page, page.wx.lastTask(), 10);
  assert.equal(page.replyText(), REPLY);
});

test('the network coming back replaces the connection of the old network and continues after the last event', async () => {
  const page = openPage();
  await page.send('换网络');
  const first = page.wx.lastTask();
  await streamThenCutInside(page, first, 0, 8);
  page.wx.changeNetwork(false);
  await page.advance(0);
  assert.equal(page.wx.chatTasks.length, 1, 'no network: nothing to do');
  page.wx.changeNetwork(true, 'wifi');
  await page.advance(0);
  assert.equal(first.aborted, true);
  assert.equal(page.wx.chatTasks.length, 2);
  assertResumeRequest(page.wx.lastTask(), 8);
  await finishFrom(page, page.wx.lastTask(), 8);
  assert.equal(page.replyText(), REPLY);
});

test('the app and network listeners are registered once per page and removed on detach', async () => {
  const page = openPage();
  assert.equal(page.wx.appShowListeners.length, 1);
  assert.equal(page.wx.networkListeners.length, 1);
  page.detach();
  assert.equal(page.wx.appShowListeners.length, 0);
  assert.equal(page.wx.networkListeners.length, 0);
});

test('a reply the server no longer has says so and keeps its text', async () => {
  const page = openPage();
  await page.send('过期');
  const first = page.wx.lastTask();
  await streamThenCutInside(page, first, 0, 10);
  first.failNetwork();
  await page.advance(1000);
  const resume = page.wx.lastTask();
  resume.respond(404, { 'Content-Type': 'application/json' });
  await page.feed(resume, byteChunks(utf8(JSON.stringify(errorBody('not_found', 'expired')))));
  resume.succeed();
  await page.advance(3000);
  assert.equal(page.statusText(), RESUME_EXPIRED_MESSAGE);
  assert.ok(page.replyText().length > 0 && REPLY.startsWith(page.replyText()));
  assert.equal(page.exists('.retry'), false);
  assert.equal(page.exists('.stop'), false);
});

test('stop aborts the request and posts to the stop route as the signed-in user, logging in again once if refused', async () => {
  const page = openPage();
  page.wx.stopAnswers.push({ statusCode: 401, data: errorBody('token_expired', 'expired') });
  await page.send('停下');
  const task = page.wx.lastTask();
  await streamThenCutInside(page, task, 0, 6);
  await page.tap('.stop');
  await page.advance(200);
  assert.equal(task.aborted, true);
  assert.equal(page.statusText(), '已停止');
  assert.equal(page.wx.stopRequests.length, 2, 'refused once, then sent again after a re-login');
  const [refused, accepted] = page.wx.stopRequests;
  assert.equal(refused?.method, 'POST');
  // By the request's id, which the server knows before the reply has one.
  assert.equal(new URL(refused?.url ?? '').pathname, `/api/chat/requests/${requestIdOf(task)}/stop`);
  assert.equal(refused?.header?.Authorization, 'Bearer token-1');
  assert.equal(accepted?.header?.Authorization, 'Bearer token-2');
  assert.equal(page.wx.chatTasks.length, 1, 'a stopped reply is not resumed');
  page.wx.showApp();
  await page.advance(2000);
  assert.equal(page.wx.chatTasks.length, 1);
});

test('a reply cut by the length limit offers 继续, which asks for the rest in the same conversation', async () => {
  const page = openPage();
  await page.send('写一篇很长的文章');
  const events = replyEvents({ text: '很长的文章，写到一半', finishReason: 'length' });
  const task = page.wx.lastTask();
  task.respond(200);
  await page.feed(task, byteChunks(wire(events)));
  task.succeed();
  await page.advance(3000);
  assert.equal(page.exists('.continue'), true);
  await page.type('草稿还在');
  await page.tap('.continue');
  const next = page.wx.lastTask();
  assert.equal(next.options.method, 'POST');
  assert.deepEqual(sentBody(next), { message: '继续', conversationId: 'c-1' });
  assert.equal(page.exists('.continue'), false, 'only the last reply offers it');
  assert.equal(page.data.draft, '草稿还在', 'the draft is not sent');
  await finishFrom(page, next, 0);
  assert.equal(page.exists('.continue'), false, 'a reply that ended normally offers nothing');
});

/** Breaks the reply after `cutAt` events and fails every automatic attempt to continue it, until 重试 shows. */
async function breakUntilRetry(page: ChatPage, cutAt: number): Promise<void> {
  const first = page.wx.lastTask();
  await streamThenCutInside(page, first, 0, cutAt);
  first.failNetwork();
  for (let attempt = 0; attempt < DEFAULT_RESUME_ATTEMPTS; attempt++) {
    const before = page.wx.chatTasks.length;
    await page.advance(9000, 100);
    assert.equal(page.wx.chatTasks.length, before + 1, `automatic attempt ${attempt + 1}`);
    assertResumeRequest(page.wx.lastTask(), cutAt);
    page.wx.lastTask().failNetwork('request:fail net::ERR_INTERNET_DISCONNECTED');
  }
  await page.advance(3000);
  assert.equal(page.exists('.retry'), true, 'the automatic attempts gave up');
  assert.equal(page.exists('.stop'), false);
}

test('重试 after the automatic resumes gave up reopens the reply from its last event instead of sending the message again', async () => {
  const page = openPage();
  await page.send('网络很差');
  await breakUntilRetry(page, 14);
  const shownBefore = page.replyText();
  assert.ok(shownBefore.length > 0 && REPLY.startsWith(shownBefore));
  const tasks = page.wx.chatTasks.length;

  await page.tap('.retry');
  assert.equal(page.wx.chatTasks.length, tasks + 1);
  // The old behaviour POSTed the message again, which the server refuses (409) while it still generates this reply.
  assertResumeRequest(page.wx.lastTask(), 14);
  assert.equal(page.exists('.retry'), false);
  assert.equal(page.exists('.stop'), true, 'streaming again');
  assert.equal(page.replyText(), shownBefore, 'the text already received stays on screen');
  await finishFrom(page, page.wx.lastTask(), 14);

  assert.equal(page.replyText(), REPLY, 'nothing repeated, nothing skipped');
  assert.equal(page.statusText(), '');
  assert.equal(page.wx.chatTasks.filter((task) => task.options.method === 'POST').length, 1, 'the message was sent once');
  assert.equal((page.data.messages as unknown[]).length, 2, 'the reply continued in its own bubble');
  assert.equal(page.timers.pending(), 0);
});

test('重试 of a reply the server no longer has (404) falls back to sending the message again', async () => {
  const page = openPage();
  await page.send('过期后重试');
  await breakUntilRetry(page, 9);
  await page.tap('.retry');
  const reopen = page.wx.lastTask();
  assertResumeRequest(reopen, 9);
  reopen.respond(404, { 'Content-Type': 'application/json' });
  await page.feed(reopen, byteChunks(utf8(JSON.stringify(errorBody('not_found', 'expired')))));
  reopen.succeed();
  await page.advance(0);
  const resent = page.wx.lastTask();
  assert.equal(resent.options.method, 'POST');
  assert.equal(new URL(resent.options.url).pathname, '/api/chat');
  assert.deepEqual(sentBody(resent), { message: '过期后重试' });
  assert.equal(page.statusText(), '', 'the expiry is not shown: the reply starts over');
  assert.equal(page.exists('.stop'), true);
  await finishFrom(page, resent, 0);
  assert.equal(page.replyText(), REPLY);
  assert.equal((page.data.messages as unknown[]).length, 2);
});
