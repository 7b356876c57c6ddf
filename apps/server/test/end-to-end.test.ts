/**
 * End to end: the real server and the real upstream emulator on loopback, read by the client core
 * through a `wx.request` made of node:http. The socket's real chunks are handed over as ArrayBuffers,
 * and in most tests re-cut at random byte positions and merged, the way `onChunkReceived` does on a
 * phone; whatever the slicing, the reply the client assembles must equal what the model wrote.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openReplyStream, ReplySession, type ReplyStreamHandlers } from '@wxstream/client';
import { ROUTES, routePath, type ReplyEvent, type WxstreamError, type ChatRequest } from '@wxstream/protocol';
import { createSeededRandom } from '../../../packages/client/test/support/seeded-random.ts';
import { createNodeWxRequest, type NodeWxRequestOptions } from './support/node-wx-request.ts';
import { login, send } from './support/http-client.ts';
import { eventually, PATIENCE_MS } from './support/eventually.ts';
import { startStack, startTestServer } from './support/test-server.ts';

const MODEL_TEXT = [
  '你好！我是 **wxstream** 的测试模型。',
  '这里有 emoji：👨‍👩‍👧‍👦 🇨🇳 👍🏽 1️⃣，还有生僻字：𠀀𪚥。\n\n',
  '```ts\nconst reply = await chat("你好");\nconsole.log(reply);\n```\n',
  '最后一句：data: 不是事件，\r\n也不是换行符的问题。',
];
const REASONING = ['先想一想，', '用户问的是什么🤔'];

interface Outcome {
  events: ReplyEvent[];
  errors: WxstreamError[];
}

function collect(): { handlers: ReplyStreamHandlers; outcome: Outcome; settled: Promise<Outcome> } {
  const outcome: Outcome = { events: [], errors: [] };
  let resolve: (value: Outcome) => void = () => {};
  const settled = new Promise<Outcome>((r) => (resolve = r));
  return {
    outcome,
    settled,
    handlers: {
      onEvent(event) {
        outcome.events.push(event);
        if (event.type === 'done' || event.type === 'error') resolve(outcome);
      },
      onError(error) {
        outcome.errors.push(error);
        resolve(outcome);
      },
    },
  };
}

function textOf(events: ReplyEvent[], type: 'delta' | 'reasoning'): string {
  return events.map((event) => (event.type === type ? event.data.text : '')).join('');
}

async function chatOnce(url: string, token: string, request: NodeWxRequestOptions, body: ChatRequest = { message: '你好' }): Promise<Outcome> {
  const { handlers, settled } = collect();
  openReplyStream({ request: createNodeWxRequest(request), url: `${url}/api/chat`, token, body, handlers });
  return settled;
}

test('the client core assembles the exact reply whatever way the bytes are sliced', async () => {
  const stack = await startStack({ scenario: { reasoning: REASONING, content: MODEL_TEXT, splitEveryBytes: 5 } });
  try {
    const token = await login(stack.url);
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
      const random = createSeededRandom(seed);
      const outcome = await chatOnce(stack.url, token, { reslice: { random: () => random.next(), maxSlice: 1 + seed * 7 } });
      assert.deepEqual(outcome.errors, [], `seed ${seed}`);
      assert.equal(textOf(outcome.events, 'delta'), MODEL_TEXT.join(''), `seed ${seed}`);
      assert.equal(textOf(outcome.events, 'reasoning'), REASONING.join(''), `seed ${seed}`);
      assert.deepEqual(outcome.events.map((event) => event.id), outcome.events.map((_, index) => index + 1), `seed ${seed}`);
      assert.equal(outcome.events[0]?.type, 'start');
      assert.deepEqual(outcome.events.at(-1), { id: outcome.events.length, type: 'done', data: { finishReason: 'stop' } });
    }
  } finally {
    await stack.close();
  }
});

test('one-byte slices deliver every UTF-8 character split across chunks and still assemble the reply', async () => {
  const stack = await startStack({ scenario: { content: MODEL_TEXT } });
  try {
    const token = await login(stack.url);
    const request = createNodeWxRequest({ reslice: { random: () => 0, maxSlice: 1 } });
    const { handlers, settled } = collect();
    openReplyStream({ request, url: `${stack.url}/api/chat`, token, body: { message: '你好' }, handlers });
    const outcome = await settled;
    assert.equal(textOf(outcome.events, 'delta'), MODEL_TEXT.join(''));
    assert.ok(request.chunkSizes.length > 500 && request.chunkSizes.every((size) => size === 1));
  } finally {
    await stack.close();
  }
});

test('a platform that hands over the whole body in success instead of chunks still gets the reply', async () => {
  const stack = await startStack({ scenario: { content: MODEL_TEXT } });
  try {
    const token = await login(stack.url);
    const outcome = await chatOnce(stack.url, token, { ignoreEnableChunked: true });
    assert.deepEqual(outcome.errors, []);
    assert.equal(textOf(outcome.events, 'delta'), MODEL_TEXT.join(''));
  } finally {
    await stack.close();
  }
});

test('stop aborts the request and, through the stop route, the upstream call; nothing arrives after it', async () => {
  // A few pieces, then the model holds the stream open for ever: only the stop can end it.
  const content = Array.from({ length: 200 }, (_, index) => `第${index}段。`);
  const stack = await startStack({ scenario: { content, stallAfter: 4 } });
  try {
    const token = await login(stack.url);
    const { handlers, outcome } = collect();
    let firstDelta: () => void = () => {};
    const started = new Promise<void>((resolve) => (firstDelta = resolve));
    const stream = openReplyStream({
      request: createNodeWxRequest(),
      url: `${stack.url}/api/chat`,
      token,
      body: { message: '讲个长故事' },
      handlers: {
        onEvent(event) {
          handlers.onEvent(event);
          if (event.type === 'delta') firstDelta();
        },
        onError: handlers.onError,
      },
    });
    await started;
    stream.stop();
    const countAtStop = outcome.events.length;
    // Leaving the stream alone no longer ends the reply (CONTINUE_ON_DISCONNECT); the stop route does, as ReplySession.stop() calls it.
    const first = outcome.events[0];
    assert.equal(first?.type, 'start');
    const messageId = first?.type === 'start' ? first.data.messageId : '';
    const stop = await send(stack.url, routePath(ROUTES.stopReply, { messageId }), { method: 'POST', headers: { Authorization: `Bearer ${token}` } });
    assert.deepEqual(stop.json(), { status: 'stopping' });
    await stack.emulator.waitForAbort(0, PATIENCE_MS);
    // The reply's ending (done stopped) reached the server's side of the stopped stream by now, or never will.
    await eventually(() => stack.app.server.activeReplies === 0, 'the stopped reply to conclude');
    assert.equal(outcome.events.length, countAtStop, 'no events after stop');
    assert.deepEqual(outcome.errors, [], 'stop is not an error');
  } finally {
    await stack.close();
  }
});

test('an error status is reported as its code, never typed out as reply text', async () => {
  const stack = await startStack({ scenario: { content: ['never sent'] } });
  try {
    const missing = await chatOnce(stack.url, '', { reslice: { random: () => 0.3, maxSlice: 3 } });
    assert.equal(missing.events.length, 0);
    assert.equal(missing.errors[0]?.code, 'unauthorized');
    const forged = await chatOnce(stack.url, 'eyJzdWIiOiJ4In0.forged', {});
    assert.equal(forged.errors[0]?.code, 'invalid_token');
    assert.equal(stack.emulator.requests.length, 0, 'no upstream call for a rejected request');
  } finally {
    await stack.close();
  }
});

test('an upstream failure mid-reply ends the stream with one error event after the partial text', async () => {
  const stack = await startStack({ scenario: { content: ['前半句，', '后半句'], failAfter: { events: 2, mode: 'destroy' } } });
  try {
    const token = await login(stack.url);
    const random = createSeededRandom(42);
    const outcome = await chatOnce(stack.url, token, { reslice: { random: () => random.next(), maxSlice: 9 } });
    const terminal = outcome.events.filter((event) => event.type === 'done' || event.type === 'error');
    assert.equal(terminal.length, 1);
    assert.equal(terminal[0]?.type, 'error');
    assert.equal(outcome.events.at(-1)?.type, 'error');
    assert.deepEqual(outcome.errors, []);
  } finally {
    await stack.close();
  }
});

test('a reply session over the real server reveals the whole reply and settles once', async () => {
  const stack = await startStack({ scenario: { reasoning: REASONING, content: MODEL_TEXT, chunkDelayMs: 5 } });
  try {
    const token = await login(stack.url);
    const random = createSeededRandom(7);
    const request = createNodeWxRequest({ reslice: { random: () => random.next(), maxSlice: 17 } });
    let settledCount = 0;
    let renders = 0;
    const done = new Promise<void>((resolve) => {
      const session = new ReplySession({
        openStream: (body, handlers) => openReplyStream({ request, url: `${stack.url}/api/chat`, token, body, handlers }),
        clock: { now: () => Date.now() },
        scheduler: { setTimeout: (callback, ms) => setTimeout(callback, ms), clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout) },
        onRender: () => {
          renders += 1;
        },
        onSettled: (state) => {
          settledCount += 1;
          assert.equal(state.status, 'done');
          assert.equal(session.view.text, MODEL_TEXT.join(''));
          assert.equal(session.view.reasoning, REASONING.join(''));
          session.dispose();
          resolve();
        },
      });
      session.start({ message: '你好' });
    });
    await done;
    assert.equal(settledCount, 1);
    assert.ok(renders >= 1);
  } finally {
    await stack.close();
  }
});

test('with no model configured, the embedded offline model explains how to configure one', async () => {
  const app = await startTestServer({ upstream: 'offline' });
  try {
    const token = await login(app.url);
    const random = createSeededRandom(3);
    const outcome = await chatOnce(app.url, token, { reslice: { random: () => random.next(), maxSlice: 11 } }, { message: '你是谁？' });
    assert.deepEqual(outcome.errors, []);
    const text = textOf(outcome.events, 'delta');
    assert.match(text, /OPENAI_API_KEY/);
    assert.match(text, /[\u4e00-\u9fff]/);
    assert.equal(outcome.events.at(-1)?.type, 'done');
  } finally {
    await app.close();
  }
});
