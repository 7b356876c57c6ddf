import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PROTOCOL_HEADER } from '@wxstream/protocol';
import { chatRequest, login, openStream, send } from './support/http-client.ts';
import { parseReplyBody } from './support/reply-stream.ts';
import { startStack, type TestStack } from './support/test-server.ts';

describe('a streamed chat reply', () => {
  let stack: TestStack;
  let token: string;

  before(async () => {
    stack = await startStack();
    token = await login(stack.url);
  });
  after(() => stack.close());

  const chat = async (scenario: Parameters<TestStack['emulator']['setScenario']>[0], body: object = { message: '你好' }, headers: Record<string, string> = {}) => {
    stack.emulator.setScenario(scenario);
    const answer = await send(stack.url, '/api/chat', chatRequest(token, body, headers));
    assert.equal(answer.status, 200, answer.text);
    return { answer, reply: parseReplyBody(answer.text) };
  };

  test('relays the exact text with ids 1..n, start first and done last', async () => {
    const { reply } = await chat({ content: ['Hello', ', ', 'world', '!'], usage: { promptTokens: 7, completionTokens: 4 } });
    assert.equal(reply.text, 'Hello, world!');
    assert.deepEqual(
      reply.events.map((event) => event.id),
      reply.events.map((_, index) => index + 1),
    );
    assert.deepEqual(
      reply.events.map((event) => event.type),
      ['start', 'delta', 'delta', 'delta', 'delta', 'usage', 'done'],
    );
    assert.deepEqual(reply.events.at(-2)?.data, { promptTokens: 7, completionTokens: 4 });
    assert.deepEqual(reply.events.at(-1)?.data, { finishReason: 'stop' });
  });

  test('answers with the stream headers, chunked and uncompressed even when the client accepts gzip', async () => {
    const { answer } = await chat({ content: ['ok'] }, { message: 'hi' }, { 'Accept-Encoding': 'gzip, deflate, br' });
    assert.equal(answer.headers['content-type'], 'text/event-stream; charset=utf-8');
    assert.equal(answer.headers['cache-control'], 'no-cache, no-transform');
    assert.equal(answer.headers['x-accel-buffering'], 'no');
    assert.equal(answer.headers['transfer-encoding'], 'chunked');
    assert.equal(answer.headers['content-encoding'], undefined);
    assert.equal(answer.headers['content-length'], undefined);
    assert.equal(answer.headers[PROTOCOL_HEADER.toLowerCase()], '1');
  });

  test('start announces the new conversation and the stored reply, with ids from the injected generator, and the model', async () => {
    let counter = 0;
    const local = await startStack({ ids: () => `id-${++counter}` });
    try {
      const localToken = await login(local.url);
      const answer = await send(local.url, '/api/chat', chatRequest(localToken, { message: 'hi' }, { 'X-Request-Id': 'fixed-request-id' }));
      const start = parseReplyBody(answer.text).events[0];
      assert.equal(start?.type, 'start');
      const data = start.type === 'start' ? start.data : undefined;
      assert.match(data?.conversationId ?? '', /^id-\d+$/);
      assert.match(data?.messageId ?? '', /^id-\d+$/);
      assert.equal(data?.model, 'emulated-model');
      const stored = await send(local.url, `/api/conversations/${data?.conversationId}`, { headers: { Authorization: `Bearer ${localToken}` } });
      const detail = stored.json() as { messages: Array<{ id: string; role: string }> };
      assert.deepEqual(
        detail.messages.map((message) => message.role),
        ['user', 'assistant'],
      );
      assert.equal(detail.messages[1]?.id, data?.messageId);
    } finally {
      await local.close();
    }
  });

  test('continuing a conversation echoes its id in start', async () => {
    const first = await chat({ content: ['ok'] }, { message: 'hi' });
    const conversationId = first.reply.events[0]?.type === 'start' ? first.reply.events[0].data.conversationId : '';
    const { reply } = await chat({ content: ['ok'] }, { message: 'again', conversationId });
    const start = reply.events[0];
    assert.equal(start?.type, 'start');
    assert.equal(start.type === 'start' ? start.data.conversationId : undefined, conversationId);
  });

  test('asks the provider to stream with usage, for the configured model, with the user message', async () => {
    const before = stack.emulator.requests.length;
    await chat({ content: ['ok'] }, { message: '天空为什么是蓝色的？' });
    const request = stack.emulator.requests[before];
    assert.ok(request);
    assert.equal(request.model, 'emulated-model');
    assert.equal(request.stream, true);
    assert.deepEqual(request.streamOptions, { include_usage: true });
    assert.deepEqual(request.messages, [{ role: 'user', content: '天空为什么是蓝色的？' }]);
    assert.equal(request.headers.authorization, 'Bearer sk-test-emulator-key-0123456789abcdef');
  });

  test('sends reasoning before the answer', async () => {
    const { reply } = await chat({ reasoning: ['先想', '一想'], content: ['答', '案'] });
    assert.equal(reply.reasoning, '先想一想');
    assert.equal(reply.text, '答案');
    const types = reply.events.map((event) => event.type);
    assert.deepEqual(types.slice(0, 5), ['start', 'reasoning', 'reasoning', 'delta', 'delta']);
  });

  test('reports the last cumulative usage once, never a sum, just before the terminal event', async () => {
    const { reply } = await chat({
      content: ['a', 'b', 'c', 'd'],
      cumulativeUsage: true,
      usage: { promptTokens: 12, completionTokens: 4 },
    });
    const usages = reply.events.filter((event) => event.type === 'usage');
    assert.equal(usages.length, 1);
    assert.deepEqual(usages[0]?.data, { promptTokens: 12, completionTokens: 4 });
    assert.equal(reply.events.at(-2)?.type, 'usage');
  });

  test('reassembles Chinese and emoji split across writes at arbitrary byte positions', async () => {
    const content = ['你好，', '世界 🌏', '！👩‍💻 写代码', '中文😀emoji'];
    const { reply } = await chat({ content, reasoning: ['思考🤔中'], splitEveryBytes: 5 });
    assert.equal(reply.text, content.join(''));
    assert.equal(reply.reasoning, '思考🤔中');
  });

  test('reads a provider that ends lines with CRLF and sends keep-alive comments', async () => {
    const { reply } = await chat({ content: ['line one', '\r\nline two'], lineEnding: '\r\n', keepAlive: true, splitEveryBytes: 7 });
    assert.equal(reply.text, 'line one\r\nline two');
    assert.equal(reply.events.at(-1)?.type, 'done');
  });

  test('passes an unusual finish reason through', async () => {
    const { reply } = await chat({ content: ['cut'], finishReason: 'length' });
    assert.deepEqual(reply.events.at(-1)?.data, { finishReason: 'length' });
  });

  test('ends with exactly one terminal event and writes nothing after it', async () => {
    const { answer, reply } = await chat({ content: ['x', 'y'] });
    const terminals = reply.events.filter((event) => event.type === 'done' || event.type === 'error');
    assert.equal(terminals.length, 1);
    assert.ok(answer.text.endsWith('event: done\ndata: {"finishReason":"stop"}\n\n'));
  });

  test('flushes each event as it happens instead of buffering the reply', async () => {
    stack.emulator.setScenario({ content: ['one', 'two', 'three'], chunkDelayMs: 150 });
    const stream = await openStream(stack.url, '/api/chat', chatRequest(token, { message: 'pace' }));
    await stream.waitForText('"one"');
    assert.ok(!stream.text().includes('"three"'), 'the first delta arrived before the last was produced');
    await stream.ended;
    assert.equal(parseReplyBody(stream.text()).text, 'onetwothree');
  });
});
