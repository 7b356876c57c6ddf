/**
 * The chat page as WeChat would run it: the built page script and the vendor bundle, the template
 * compiled by the official WXML compiler, rendered by miniprogram-simulate; `wx.request` answers with
 * real SSE bytes (framed by the protocol's `formatSseEvent`) cut at arbitrary byte offsets; time is
 * simulated through the global timers the page's platform adapter uses.
 */
import assert from 'node:assert/strict';
import { test } from '@jest/globals';
import { afterThisTest } from './support/after-this-test.ts';
import { errorBody, userMessageFor, type WireError } from '@wxstream/protocol';
import { ChatPage, type ChatPageOptions } from './support/chat-page.ts';
import type { FakeRequestTask } from './support/fake-wx.ts';
import { byteChunks, replyEvents, splitsACharacter, sseText, utf8, type ReplyScript } from './support/sse-stream.ts';
import { sentBody } from './support/chat-body.ts';

const REPLY = '你好！我是 wxstream 的测试回复，👋🏽 表情也要完整。\n\n第二段：流式输出会被逐字显示出来，直到结束。\n\n最后一段 🇨🇳。';

function openPage(options?: ChatPageOptions): ChatPage {
  const page = new ChatPage(options);
  afterThisTest(() => page.close());
  return page;
}

function chunksOf(script: ReplyScript): ArrayBuffer[] {
  return byteChunks(utf8(sseText(replyEvents(script), { heartbeatEvery: 7 })));
}

/** The server answers 200 and streams the whole script, then the connection ends. */
async function streamReply(page: ChatPage, task: FakeRequestTask, script: ReplyScript): Promise<void> {
  task.respond(200);
  await page.feed(task, chunksOf(script));
  task.succeed();
  await page.advance(3000);
}

async function answerWithError(page: ChatPage, task: FakeRequestTask, status: number, code: WireError['code'], message: string): Promise<void> {
  task.respond(status, { 'Content-Type': 'application/json; charset=utf-8' });
  await page.feed(task, byteChunks(utf8(JSON.stringify(errorBody(code, message))), [5, 9]));
  task.succeed();
  await page.advance(200);
}

function bodyOf(task: FakeRequestTask): unknown {
  return sentBody(task);
}

test('the page opens on its empty state with nothing to send', () => {
  const page = openPage();
  assert.match(page.text('.empty'), /有什么可以帮你/);
  assert.equal(page.attr('.send', 'disabled'), true);
  assert.equal(page.exists('.stop'), false);
  assert.equal(page.exists('.notice'), false);
});

test('typing enables sending; blank input does not', async () => {
  const page = openPage();
  await page.type('   ');
  assert.equal(page.attr('.send', 'disabled'), true);
  await page.type('你好');
  assert.equal(page.attr('.send', 'disabled'), false);
});

test('a reply arriving in byte-split chunks is typed out, then shown exactly', async () => {
  const page = openPage();
  await page.send('介绍一下你自己');
  assert.equal(page.wx.loginCalls, 1);
  const task = page.wx.lastTask();
  assert.match(task.options.url, /\/api\/chat$/);
  assert.equal(task.options.header?.Authorization, 'Bearer token-1');
  assert.deepEqual(bodyOf(task), { message: '介绍一下你自己' });
  assert.equal(page.exists('.empty'), false);

  const chunks = chunksOf({ text: REPLY });
  assert.ok(splitsACharacter(chunks), 'some chunk boundary falls inside a UTF-8 character');
  task.respond(200);
  await page.feed(task, chunks.slice(0, chunks.length >> 1));
  const typing = page.replyText();
  assert.ok(typing.length > 0 && typing.length < REPLY.length, `partly typed: ${JSON.stringify(typing)}`);
  assert.ok(REPLY.startsWith(typing));
  assert.equal(page.exists('.stop'), true);

  await page.feed(task, chunks.slice(chunks.length >> 1));
  task.succeed();
  await page.advance(3000);
  assert.equal(page.replyText(), REPLY);
  assert.equal(page.exists('.stop'), false);
  assert.equal(page.statusText(), '');
  assert.deepEqual(page.answers(), ['介绍一下你自己', REPLY]);
});

test('the next message carries the conversation id of the last reply', async () => {
  const page = openPage();
  await page.send('第一问');
  await streamReply(page, page.wx.lastTask(), { text: '第一答' });
  await page.send('第二问');
  assert.deepEqual(bodyOf(page.wx.lastTask()), { message: '第二问', conversationId: 'c-1' });
  assert.equal(page.wx.loginCalls, 1, 'the stored token is reused');
});

test('a fenced code block shows its language, its code highlighted, and copies exactly its code', async () => {
  const page = openPage();
  await page.send('写个例子');
  const code = 'const answer = 42;\n\nif (answer) {\n    console.log(`${answer}`); // 缩进保留\n}';
  await streamReply(page, page.wx.lastTask(), { text: `示例：\n\`\`\`ts\n${code}\n\`\`\`\n完。` });
  assert.equal(page.text('.answer >>> .code-lang'), 'ts');
  assert.equal(page.replyText(), `示例：\n\n${code}\n\n完。`);
  assert.ok(page.findAll('.answer >>> .hljs-keyword').length > 0, 'keywords are highlighted');
  await page.tap('.answer >>> .code-copy');
  assert.deepEqual(page.wx.clipboard, [code]);
  assert.deepEqual(page.wx.toasts, ['代码已复制']);
});

test('stop keeps the partial reply, marks it stopped, aborts the request and ignores late chunks', async () => {
  const page = openPage();
  await page.send('讲个长故事');
  const task = page.wx.lastTask();
  const chunks = chunksOf({ text: REPLY });
  task.respond(200);
  await page.feed(task, chunks.slice(0, chunks.length >> 1));

  await page.tap('.stop');
  await page.advance(200);
  assert.equal(task.aborted, true);
  const partial = page.replyText();
  assert.ok(partial.length > 0 && partial.length < REPLY.length);
  assert.ok(REPLY.startsWith(partial));
  assert.equal(page.statusText(), '已停止');
  assert.equal(page.exists('.stop'), false);

  const callsAfterStop = page.calls.length;
  await page.feed(task, chunks.slice(chunks.length >> 1));
  await page.advance(3000);
  assert.equal(page.replyText(), partial);
  assert.equal(page.calls.length, callsAfterStop);
  assert.equal(page.timers.pending(), 0);
});

test('an error after partial text keeps the text, shows the Chinese message and retries the last message', async () => {
  const page = openPage();
  await page.send('解释一下量子计算');
  const partialText = '量子计算利用叠加态';
  await streamReply(page, page.wx.lastTask(), {
    text: partialText,
    error: { code: 'upstream_unavailable', message: 'provider returned 502 Bad Gateway', retryable: true },
  });
  assert.equal(page.replyText(), partialText);
  assert.match(page.statusText(), new RegExp(userMessageFor('upstream_unavailable')));
  assert.equal(page.root.dom.textContent?.includes('Bad Gateway'), false, 'the developer message is never shown');
  assert.equal(page.attr('.retry', 'disabled'), false);

  await page.tap('.retry');
  assert.equal(page.wx.chatTasks.length, 2);
  assert.deepEqual(bodyOf(page.wx.lastTask()), { message: '解释一下量子计算' });
  await streamReply(page, page.wx.lastTask(), { text: '重新回答：量子比特。' });
  assert.equal(page.replyText(), '重新回答：量子比特。');
  assert.equal(page.exists('.retry'), false);
  assert.equal((page.data.messages as unknown[]).length, 2, 'the retry reuses the failed bubble');
});

test('an error that retrying cannot fix offers no retry', async () => {
  const page = openPage();
  await page.send('x');
  await answerWithError(page, page.wx.lastTask(), 400, 'message_too_long', 'message exceeds 4000 code points');
  assert.match(page.statusText(), new RegExp(userMessageFor('message_too_long')));
  assert.equal(page.exists('.retry'), false);
});

test('a non-200 answer with a JSON error body shows its message and never types the body', async () => {
  const page = openPage();
  await page.send('你好');
  await answerWithError(page, page.wx.lastTask(), 429, 'rate_limited', 'too many requests from this user');
  assert.equal(page.replyText(), '');
  assert.match(page.statusText(), new RegExp(userMessageFor('rate_limited')));
  const everything = page.root.dom.textContent ?? '';
  assert.equal(everything.includes('rate_limited'), false);
  assert.equal(everything.includes('too many requests'), false);
  assert.equal(page.exists('.retry'), true);
});

test('reasoning stays collapsed and off the bridge until tapped open', async () => {
  const page = openPage();
  const reasoning = '用户在问天气，先确认城市，再给出建议。';
  await page.send('今天穿什么');
  await streamReply(page, page.wx.lastTask(), { reasoning, text: '建议穿外套。' });
  assert.equal(page.exists('.reasoning-toggle'), true);
  assert.match(page.text('.reasoning-toggle'), /思考过程/);
  assert.equal(page.exists('.reasoning-body'), false);
  assert.equal(page.calls.some((call) => JSON.stringify(call.data).includes('先确认城市')), false);
  assert.equal(page.replyText(), '建议穿外套。');

  await page.tap('.reasoning-toggle');
  assert.equal(page.text('.reasoning-body'), reasoning);
  await page.tap('.reasoning-toggle');
  assert.equal(page.exists('.reasoning-body'), false);
});

test('a hidden page gets no setData at all, then catches up in one call when shown', async () => {
  const page = openPage();
  await page.send('写一首诗');
  const task = page.wx.lastTask();
  const chunks = chunksOf({ text: REPLY });
  task.respond(200);
  await page.feed(task, chunks.slice(0, 10));

  page.hide();
  const before = page.calls.length;
  await page.feed(task, chunks.slice(10));
  task.succeed();
  await page.advance(5000);
  assert.equal(page.calls.length, before, 'no setData while hidden');
  assert.equal(page.timers.pending(), 0, 'no typing timers while hidden');

  page.show();
  await page.advance(100);
  assert.equal(page.calls.length, before + 1, 'one catch-up setData');
  assert.equal(page.replyText(), REPLY);
  assert.equal(page.exists('.stop'), false);
});

// Slow in real time (miniprogram-simulate re-renders the page on each of ~150 frames), not in simulated time.
test('a 2,000-character reply makes at most 20 setData calls a second, each carrying only changed paths', async () => {
  const page = openPage();
  const paragraph = '流式输出让用户更早看到回复，也让等待不再漫长。每一帧只更新正在输入的段落，已经完成的段落不会再次发送。';
  let text = '';
  while (text.length < 2000) text += `${paragraph}\n\n`;
  text = text.slice(0, 2000);
  await page.send('长回复');
  const firstStreamCall = page.calls.length;
  const task = page.wx.lastTask();
  task.respond(200);
  await page.feed(task, byteChunks(utf8(sseText(replyEvents({ text, deltas: 400 })))), 25);
  await page.advance(3000);
  assert.equal(page.replyText(), text);

  const calls = page.calls.slice(firstStreamCall);
  const start = calls[0]?.at ?? 0;
  const perSecond = new Map<number, number>();
  for (const call of calls) {
    const second = Math.floor((call.at - start) / 1000);
    perSecond.set(second, (perSecond.get(second) ?? 0) + 1);
  }
  assert.ok(Math.max(...perSecond.values()) <= 20, `calls per simulated second: ${[...perSecond.values()].join(', ')}`);

  const allowed = /^(messages\[1\]\.(blocks\[\d+\](\.parts\[\d+\]\.runs(\[\d+\](\.text)?)?)?|status|finishReason|errorMessage|retryable|hasReasoning)|scrollAnchor|streaming)$/;
  for (const call of calls) {
    for (const key of Object.keys(call.data)) assert.match(key, allowed);
    assert.deepEqual(call.unchanged, [], `keys resent without a change: ${call.unchanged.join(', ')}`);
  }
  // A frame carries at most the end of one paragraph and the start of the next, never the reply so far.
  const paragraphBytes = Buffer.byteLength(JSON.stringify(`${paragraph}\n\n`));
  const maxBytes = Math.max(...calls.map((call) => call.bytes));
  assert.ok(maxBytes <= 2 * paragraphBytes + 160, `largest call ${maxBytes} bytes; one paragraph is ${paragraphBytes}`);
  assert.ok(maxBytes * 20 < Buffer.byteLength(JSON.stringify(text)));
}, 60_000);

test('an expired token triggers one re-login and the message goes out again', async () => {
  const page = openPage();
  page.wx.storage.set('wxstream.auth', { token: 'stale', expiresAt: page.timers.now() + 3_600_000 });
  await page.send('还在吗');
  const refused = page.wx.lastTask();
  assert.equal(refused.options.header?.Authorization, 'Bearer stale');
  assert.equal(page.wx.loginCalls, 0);
  await answerWithError(page, refused, 401, 'token_expired', 'Token has expired');

  assert.equal(page.wx.loginCalls, 1);
  assert.equal(page.wx.chatTasks.length, 2);
  const retried = page.wx.lastTask();
  assert.equal(retried.options.header?.Authorization, 'Bearer token-1');
  assert.deepEqual(bodyOf(retried), { message: '还在吗' });
  await streamReply(page, retried, { text: '在的。' });
  assert.equal(page.replyText(), '在的。');
  assert.equal(page.statusText(), '');
});

test('a token refused again after the re-login is shown, not retried forever', async () => {
  const page = openPage();
  await page.send('你好');
  await answerWithError(page, page.wx.lastTask(), 401, 'invalid_token', 'Token signature is invalid');
  await answerWithError(page, page.wx.lastTask(), 401, 'invalid_token', 'Token signature is invalid');
  assert.equal(page.wx.chatTasks.length, 2);
  assert.equal(page.wx.loginCalls, 2);
  assert.match(page.statusText(), new RegExp(userMessageFor('invalid_token')));
});

test('sending is refused while a reply streams', async () => {
  const page = openPage();
  await page.send('第一条');
  const task = page.wx.lastTask();
  task.respond(200);
  await page.feed(task, chunksOf({ text: REPLY }).slice(0, 5));

  await page.type('第二条');
  assert.equal(page.attr('.send', 'disabled'), true);
  await page.tap('.send');
  page.find('.input')?.dispatchEvent('confirm', { detail: { value: '第二条' } });
  await page.advance(100);
  assert.equal(page.wx.chatTasks.length, 1);
  assert.equal((page.data.messages as unknown[]).length, 2);
});

test('leaving the page aborts the stream and leaves no timer behind', async () => {
  const page = openPage();
  await page.send('再见');
  const task = page.wx.lastTask();
  const chunks = chunksOf({ text: REPLY });
  task.respond(200);
  await page.feed(task, chunks.slice(0, 8));
  assert.ok(page.timers.pending() > 0, 'typing and the idle watchdog run while streaming');

  page.detach();
  assert.equal(task.aborted, true);
  assert.equal(page.timers.pending(), 0);
  const calls = page.calls.length;
  await page.feed(task, chunks.slice(8));
  await page.advance(5000);
  assert.equal(page.calls.length, calls);
});

test('a base library without enableChunked polls its replies instead of refusing to send', async () => {
  const page = openPage({ sdkVersion: '2.19.0' });
  assert.equal(page.exists('.notice'), false, 'no "please upgrade": this WeChat can chat');
  await page.send('你好');
  const post = page.wx.lastTask();
  assert.equal(post.options.enableChunked, false);
  assert.equal(sentBody(post).delivery, 'poll');
  post.succeedWhole(202, JSON.stringify({ messageId: 'r-1', conversationId: 'c-1' }), { 'Content-Type': 'application/json' });
  await page.advance(0);
  const poll = page.wx.lastTask();
  assert.equal(poll.options.enableChunked, false);
  assert.match(poll.options.url, /\/api\/chat\/r-1\/events\?lastEventId=0&poll=1$/);
  poll.succeedWhole(200, sseText(replyEvents({ text: REPLY })));
  await page.advance(5000);
  assert.equal(page.replyText(), REPLY);
});

test('scrolling up pauses auto-scroll and shows 回到底部, which resumes it', async () => {
  const page = openPage();
  await page.send('长一点');
  const task = page.wx.lastTask();
  const chunks = chunksOf({ text: REPLY.repeat(4), deltas: 80 });
  task.respond(200);
  await page.feed(task, chunks.slice(0, 20));
  assert.equal(page.exists('.jump'), false);

  await page.scrollList(900, 2000);
  await page.scrollList(300, 2000);
  assert.equal(page.exists('.jump'), true);
  const paused = page.calls.length;
  await page.feed(task, chunks.slice(20, 60));
  const whilePaused = page.calls.slice(paused);
  assert.ok(whilePaused.length > 0);
  assert.equal(whilePaused.some((call) => 'scrollAnchor' in call.data), false, 'the list is left where the reader put it');

  await page.tap('.jump');
  assert.equal(page.exists('.jump'), false);
  const resumed = page.calls.length;
  await page.feed(task, chunks.slice(60));
  await page.advance(3000);
  assert.ok(page.calls.slice(resumed - 1).every((call) => 'scrollAnchor' in call.data));
});
