/**
 * Resuming a reply from `Last-Event-ID` and stopping it, through the real server and the real
 * upstream emulator (one instance, reply log in memory; `reply-two-instances.test.ts` does the same
 * across two instances sharing Redis and PostgreSQL).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PROTOCOL_HEADER, STREAM_HEADERS, parseErrorBody } from '@wxstream/protocol';
import { startOf, waitForStoredReply } from './support/api-client.ts';
import { chatRequest, login, openStream, send } from './support/http-client.ts';
import { parseReplyBody } from './support/reply-stream.ts';
import { eventFrames, framesAfter, lastFrameId, openResume, resume, stopReply } from './support/reply-routes-client.ts';
import { startStack, type TestStack } from './support/test-server.ts';
import { eventually, PATIENCE_MS } from './support/eventually.ts';
import { createTestClock } from './support/test-clock.ts';

const PIECES = Array.from({ length: 12 }, (_, index) => `第${index}段，含emoji😀与“引号”\\n`);

describe('resuming a reply', () => {
  let stack: TestStack;
  let token: string;

  before(async () => {
    stack = await startStack({ env: { HEARTBEAT_INTERVAL_MS: '3600000' } });
    token = await login(stack.url);
  });
  after(() => stack.close());

  const finishedReply = async (): Promise<{ body: string; messageId: string; conversationId: string }> => {
    stack.emulator.setScenario({ reasoning: ['想', '一想'], content: PIECES });
    const answer = await send(stack.url, '/api/chat', chatRequest(token, { message: 'a reply to resume' }));
    assert.equal(answer.status, 200, answer.text);
    const { messageId, conversationId } = startOf(answer.text);
    return { body: answer.text, messageId, conversationId };
  };

  test('from several ids, by header and by query, a finished reply replays exactly the remainder with the same ids, byte for byte', async () => {
    const { body, messageId } = await finishedReply();
    const total = parseReplyBody(body).events.length;
    for (const afterId of [0, 1, 2, 5, total - 1, total]) {
      for (const via of ['header', 'query', 'both'] as const) {
        const answer = await resume(stack.url, token, messageId, String(afterId), via);
        assert.equal(answer.status, 200, answer.text);
        assert.equal(answer.text, framesAfter(body, afterId), `after ${afterId} via ${via}`);
      }
    }
    const fromStart = await resume(stack.url, token, messageId, undefined);
    assert.equal(fromStart.text, framesAfter(body, 0), 'no Last-Event-ID replays from the start');
    assert.equal(fromStart.text, eventFrames(body).join(''));
  });

  test('the events route answers with the stream headers of POST /api/chat', async () => {
    const { messageId } = await finishedReply();
    const answer = await resume(stack.url, token, messageId, '1');
    for (const [name, value] of Object.entries(STREAM_HEADERS)) assert.equal(answer.headers[name.toLowerCase()], value, name);
    assert.equal(answer.headers[PROTOCOL_HEADER.toLowerCase()], '1');
    assert.equal(answer.headers['content-encoding'], undefined);
  });

  test('a reply cut mid-stream resumes live from its last event and ends exactly as stored', async () => {
    const content = Array.from({ length: 40 }, (_, index) => `片段${index} `);
    stack.emulator.setScenario({ content, chunkDelayMs: 15 });
    const first = await openStream(stack.url, '/api/chat', chatRequest(token, { message: 'cut me' }));
    await first.waitForText('片段3 ');
    first.destroy();
    const received = first.text();
    const { messageId, conversationId } = startOf(received);
    const lastId = lastFrameId(received);
    const rest = await openResume(stack.url, token, messageId, String(lastId), 'query');
    assert.equal(rest.status, 200);
    const tail = (await rest.ended).toString('utf8');
    const whole = parseReplyBody(eventFrames(received).join('') + tail);
    assert.deepEqual(
      whole.events.map((event) => event.id),
      whole.events.map((_, index) => index + 1),
      'ids run on without gap or repeat',
    );
    assert.equal(whole.text, content.join(''));
    assert.equal(whole.events.at(-1)?.type, 'done');
    const stored = await waitForStoredReply(stack.url, token, conversationId);
    assert.equal(stored.status, 'complete');
    assert.equal(stored.text, whole.text);
    // A later resume of the finished reply sends the very same bytes.
    assert.equal((await resume(stack.url, token, messageId, String(lastId))).text, tail);
  });

  test('a malformed Last-Event-ID is a 400, an unknown reply and another user’s reply are 404', async () => {
    const { messageId } = await finishedReply();
    for (const bad of ['abc', '-1', '1.5', '1e3', '99999999999999999999']) {
      for (const via of ['header', 'query'] as const) {
        const answer = await resume(stack.url, token, messageId, bad, via);
        assert.equal(answer.status, 400, `${bad} via ${via}`);
        assert.equal(parseErrorBody(answer.json())?.code, 'invalid_request');
      }
    }
    const unknown = await resume(stack.url, token, 'no-such-reply', '0');
    assert.equal(unknown.status, 404);
    assert.equal(parseErrorBody(unknown.json())?.code, 'not_found');
    const other = await login(stack.url, 'someone-else');
    const stolen = await resume(stack.url, other, messageId, '0');
    assert.equal(stolen.status, 404);
    assert.equal((await stopReply(stack.url, other, messageId)).status, 404);
    assert.equal((await stopReply(stack.url, token, 'no-such-reply')).status, 404);
    assert.equal((await send(stack.url, `/api/chat/${messageId}/events`)).status, 401);
  });

  test('stop: the model call is aborted, the stream ends with done stopped, the partial reply is stored stopped', async () => {
    // Five pieces, then the model holds the stream open for ever: only the stop can end it.
    const content = Array.from({ length: 200 }, (_, index) => `段${index} `);
    stack.emulator.setScenario({ content, stallAfter: 6 });
    const index = stack.emulator.requests.length;
    const stream = await openStream(stack.url, '/api/chat', chatRequest(token, { message: 'stop me' }));
    await stream.waitForText('段2 ');
    const { messageId, conversationId } = startOf(stream.text());
    const stop = await stopReply(stack.url, token, messageId);
    assert.equal(stop.status, 200);
    assert.deepEqual(stop.json(), { status: 'stopping' });
    await stack.emulator.waitForAbort(index, PATIENCE_MS);
    const reply = parseReplyBody((await stream.ended).toString('utf8'));
    const last = reply.events.at(-1);
    assert.deepEqual(last?.type === 'done' ? last.data : last, { finishReason: 'stopped' });
    const stored = await waitForStoredReply(stack.url, token, conversationId);
    assert.equal(stored.status, 'stopped');
    assert.equal(stored.finishReason, 'stopped');
    assert.equal(stored.text, reply.text);
    assert.ok(reply.text.length < content.join('').length);
    // Stopping what has ended says so; resuming it replays the stopped ending.
    assert.deepEqual((await stopReply(stack.url, token, messageId)).json(), { status: 'ended' });
    assert.equal(parseReplyBody((await resume(stack.url, token, messageId, '0')).text).events.at(-1)?.type, 'done');
  });

  test('a live resume carries heartbeats between events, like the POST stream', async () => {
    const pinging = await startStack({ env: { HEARTBEAT_INTERVAL_MS: '30' }, scenario: { content: ['慢', '慢', '来'], chunkDelayMs: 120 } });
    try {
      const pingToken = await login(pinging.url);
      const first = await openStream(pinging.url, '/api/chat', chatRequest(pingToken, { message: 'take your time' }));
      await first.waitForText('event: start');
      first.destroy();
      const { messageId } = startOf(first.text());
      const rest = await resume(pinging.url, pingToken, messageId, '1');
      const blocks = parseReplyBody(rest.text).blocks;
      assert.ok(blocks.some((block) => block.kind === 'heartbeat'), rest.text);
      assert.equal(parseReplyBody(rest.text).text, '慢慢来');
    } finally {
      await pinging.close();
    }
  });

  test('an expired reply log is a 404', async () => {
    const clock = createTestClock();
    const short = await startStack({ clock, env: { REPLY_LOG_TTL_MS: '1000' } });
    try {
      const shortToken = await login(short.url);
      short.emulator.setScenario({ content: ['短'] });
      const answer = await send(short.url, '/api/chat', chatRequest(shortToken, { message: 'forget me soon' }));
      const { messageId } = startOf(answer.text);
      assert.equal((await resume(short.url, shortToken, messageId, '1')).status, 200);
      await eventually(() => short.app.server.activeReplies === 0, 'the reply to finish');
      clock.advance(1000);
      const expired = await resume(short.url, shortToken, messageId, '1');
      assert.equal(expired.status, 404);
      assert.equal((await stopReply(short.url, shortToken, messageId)).status, 404);
    } finally {
      await short.close();
    }
  });
});
