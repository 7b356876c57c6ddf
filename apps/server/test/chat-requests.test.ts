/**
 * Chat requests for every WeChat client, through the real server and the upstream emulator, on both
 * reply-log backends (process memory, and Redis when it is reachable): polling delivery (202, then the
 * events route with `poll=1` as complete bodies) reproduces the reply byte for byte; a request the
 * client names (`requestId`) is answered once, however often it is sent; and a stop by requestId works
 * before the reply exists — remembered when it overtakes its request.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { POLL_QUERY, parseErrorBody, type ChatAcceptedResponse, type ConversationDetail } from '@wxstream/protocol';
import { getConversation, startOf, waitForStoredReply } from './support/api-client.ts';
import { chatRequest, login, openStream, send, type HttpAnswer } from './support/http-client.ts';
import { parseReplyBody } from './support/reply-stream.ts';
import { resume } from './support/reply-routes-client.ts';
import { connectTestRedis, TEST_REDIS_URL, type TestRedis } from './support/test-redis.ts';
import { startStack, type TestStack } from './support/test-server.ts';

const PIECES = Array.from({ length: 24 }, (_, index) => `第${index}段，含emoji😀与“引号”。\\n`);

function poll(url: string, token: string, messageId: string, afterId: number): Promise<HttpAnswer> {
  return send(url, `/api/chat/${messageId}/events?lastEventId=${afterId}&${POLL_QUERY}=1`, { headers: { Authorization: `Bearer ${token}` } });
}

function stopRequest(url: string, token: string, requestId: string): Promise<HttpAnswer> {
  return send(url, `/api/chat/requests/${requestId}/stop`, { method: 'POST', headers: { Authorization: `Bearer ${token}` } });
}

/** Polls from 0 until the terminal event, as a client that cannot read a body as it arrives does. */
async function pollToEnd(url: string, token: string, messageId: string): Promise<{ body: string; polls: HttpAnswer[] }> {
  let body = '';
  let afterId = 0;
  const polls: HttpAnswer[] = [];
  for (let round = 0; round < 500; round++) {
    const answer = await poll(url, token, messageId, afterId);
    polls.push(answer);
    assert.equal(answer.status, 200, answer.text);
    body += answer.text;
    const events = parseReplyBody(answer.text).events;
    const last = events.at(-1);
    if (last !== undefined) afterId = last.id;
    if (last?.type === 'done' || last?.type === 'error') return { body, polls };
  }
  throw new Error('the reply never ended');
}

const backends: { name: string; env: () => Record<string, string>; setup?: () => Promise<void>; teardown?: () => Promise<void>; skip?: string }[] = [];
backends.push({ name: 'reply log in memory', env: () => ({}) });
const redisResult = await connectTestRedis();
let redis: TestRedis | undefined;
backends.push({
  name: 'reply log in Redis',
  env: () => ({ REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: redis?.keyPrefix ?? '' }),
  ...(redisResult.available ? {} : { skip: redisResult.skipReason }),
});
if (redisResult.available) redis = redisResult.redis;
after(async () => {
  await redis?.dispose();
});

for (const backend of backends) {
  describe(`chat requests, ${backend.name}`, { ...(backend.skip === undefined ? {} : { skip: backend.skip }) }, () => {
    let stack: TestStack;
    let token: string;
    let other: string;
    let requestCount = 0;
    const newRequestId = () => `req-${backend.name.length}-${Date.now().toString(36)}-${requestCount++}`;

    before(async () => {
      stack = await startStack({ env: { HEARTBEAT_INTERVAL_MS: '3600000', POLL_WAIT_MS: '2000', ...backend.env() } });
      token = await login(stack.url, `requests-${backend.name}`);
      other = await login(stack.url, `someone-else-${backend.name}`);
    });
    after(() => stack.close());

    test('polling delivery: 202 at once, then polls whose bodies put together are the reply byte for byte, as a resume from 0', async () => {
      stack.emulator.setScenario({ content: PIECES, chunkDelayMs: 20 });
      const accepted = await send(stack.url, '/api/chat', chatRequest(token, { message: '慢慢讲', delivery: 'poll', requestId: newRequestId() }));
      assert.equal(accepted.status, 202, accepted.text);
      const { messageId, conversationId } = accepted.json() as ChatAcceptedResponse;
      assert.ok(messageId !== '' && conversationId !== '');

      const { body, polls } = await pollToEnd(stack.url, token, messageId);
      for (const answer of polls) {
        assert.equal(answer.headers['content-length'], String(Buffer.byteLength(answer.text, 'utf8')), 'each poll is a complete body with its length');
        assert.equal(answer.headers['transfer-encoding'], undefined);
        assert.match(String(answer.headers['content-type']), /^text\/event-stream/);
        assert.equal(answer.text.includes(': ping'), false);
      }
      const replay = await resume(stack.url, token, messageId, '0');
      assert.equal(body, replay.text, 'polls from 0 = resume from 0, byte for byte');
      // Batches that start mid-reply carry exactly the rest, whichever way the polls happened to fall.
      for (const afterId of [1, 5, 13]) {
        const rest = await poll(stack.url, token, messageId, afterId);
        assert.equal(rest.text, (await resume(stack.url, token, messageId, String(afterId))).text, `after ${afterId}`);
      }
      const reply = parseReplyBody(body);
      assert.deepEqual(reply.events.map((event) => event.id), reply.events.map((_, index) => index + 1));
      assert.equal(reply.events.filter((event) => event.type === 'done' || event.type === 'error').length, 1);
      assert.equal(reply.text, PIECES.join(''));
      assert.equal((await waitForStoredReply(stack.url, token, conversationId)).status, 'complete');
    });

    test('a poll after the terminal event, or of another user\'s reply, has nothing for the caller', async () => {
      stack.emulator.setScenario({ content: ['短'] });
      const accepted = await send(stack.url, '/api/chat', chatRequest(token, { message: '短答', delivery: 'poll' }));
      const { messageId } = accepted.json() as ChatAcceptedResponse;
      const { body } = await pollToEnd(stack.url, token, messageId);
      const lastId = parseReplyBody(body).events.at(-1)?.id ?? 0;
      const after = await poll(stack.url, token, messageId, lastId);
      assert.equal(after.status, 200);
      assert.equal(after.text, '');
      assert.equal(after.headers['content-length'], '0');
      assert.equal((await poll(stack.url, other, messageId, 0)).status, 404);
    });

    test('a request sent again after its connection broke gets the same reply from the start, and one turn is stored', async () => {
      stack.emulator.setScenario({ content: PIECES, chunkDelayMs: 10 });
      const requestId = newRequestId();
      const first = await openStream(stack.url, '/api/chat', chatRequest(token, { message: '只说一次', requestId }));
      assert.equal(first.status, 200);
      await first.waitForText('第2段');
      // The network fails after the server committed the turn; the client sends the same request again.
      first.destroy();
      const again = await send(stack.url, '/api/chat', chatRequest(token, { message: '只说一次', requestId }));
      assert.equal(again.status, 200, again.text);
      const { messageId, conversationId } = startOf(again.text);
      assert.equal(startOf(first.text()).messageId, messageId, 'the same reply');
      assert.equal(parseReplyBody(again.text).text, PIECES.join(''));
      assert.equal(again.text, (await resume(stack.url, token, messageId, '0')).text, 'same ids and bytes as a resume from 0');
      const polled = await send(stack.url, '/api/chat', chatRequest(token, { message: '只说一次', requestId, delivery: 'poll' }));
      assert.equal(polled.status, 202);
      assert.deepEqual(polled.json(), { messageId, conversationId });
      await waitForStoredReply(stack.url, token, conversationId);
      const conversation: ConversationDetail = await getConversation(stack.url, token, conversationId);
      assert.deepEqual(conversation.messages.map((message) => message.role), ['user', 'assistant'], 'one turn, not two');
      assert.equal(stack.emulator.requests.filter((request) => JSON.stringify(request.messages).includes('只说一次')).length, 1, 'one model call');
    });

    test('a repeat while the first is still being admitted is asked to wait; another user\'s requestId is refused', async () => {
      stack.emulator.setScenario({ content: ['好'], headersDelayMs: 1500 });
      const requestId = newRequestId();
      const first = send(stack.url, '/api/chat', chatRequest(token, { message: '等一下', requestId }));
      await stack.emulator.waitForRequests(stack.emulator.requests.length + 1, 5000);
      const early = await send(stack.url, '/api/chat', chatRequest(token, { message: '等一下', requestId, delivery: 'poll' }));
      assert.equal(early.status, 409, early.text);
      assert.equal(parseErrorBody(early.json())?.code, 'reply_in_progress');
      assert.equal(early.headers['retry-after'], '1');
      const foreign = await send(stack.url, '/api/chat', chatRequest(other, { message: '不是我的', requestId }));
      assert.equal(foreign.status, 400);
      assert.equal((await stopRequest(stack.url, other, requestId)).status, 404, "another user's requestId is not theirs to stop");
      assert.equal((await first).status, 200);
    });

    test('stop before start: the model call is closed, the reply ends stopped, and the next message is accepted', async () => {
      stack.emulator.setScenario({ content: PIECES, headersDelayMs: 30_000 });
      const requestId = newRequestId();
      const index = stack.emulator.requests.length;
      const pending = send(stack.url, '/api/chat', chatRequest(token, { message: '马上停', requestId }));
      await stack.emulator.waitForRequests(index + 1, 5000);
      const stopped = await stopRequest(stack.url, token, requestId);
      assert.equal(stopped.status, 200, stopped.text);
      assert.deepEqual(stopped.json(), { status: 'stopping' });
      // Closed by the stop itself, long before the provider would have answered (30 s).
      assert.equal((await stack.emulator.waitForAbort(index, 5000)).aborted, true);
      const answer = await pending;
      assert.equal(answer.status, 200, answer.text);
      const reply = parseReplyBody(answer.text);
      assert.deepEqual(reply.events.map((event) => event.type), ['start', 'done']);
      assert.deepEqual(reply.events[1]?.data, { finishReason: 'stopped' });
      const { conversationId } = startOf(answer.text);
      assert.equal((await waitForStoredReply(stack.url, token, conversationId)).status, 'stopped');

      stack.emulator.setScenario({ content: ['新的'] });
      const next = await send(stack.url, '/api/chat', chatRequest(token, { message: '再来', requestId: newRequestId(), conversationId }));
      assert.equal(next.status, 200, next.text);
      assert.equal(parseReplyBody(next.text).text, '新的');
    });

    test('a stop that overtakes its request is remembered: the request ends stopped without a model call', async () => {
      const requestId = newRequestId();
      const stopped = await stopRequest(stack.url, token, requestId);
      assert.equal(stopped.status, 200);
      assert.deepEqual(stopped.json(), { status: 'pending' });
      const calls = stack.emulator.requests.length;
      const answer = await send(stack.url, '/api/chat', chatRequest(token, { message: '已经停了', requestId }));
      assert.equal(answer.status, 200, answer.text);
      assert.deepEqual(parseReplyBody(answer.text).events.map((event) => event.type), ['start', 'done']);
      assert.equal(stack.emulator.requests.length, calls, 'the model was never called');
      assert.equal((await waitForStoredReply(stack.url, token, startOf(answer.text).conversationId)).status, 'stopped');
    });

    test('stop after start by requestId stops the reply like the stop by message id', async () => {
      stack.emulator.setScenario({ content: PIECES, chunkDelayMs: 50 });
      const requestId = newRequestId();
      const stream = await openStream(stack.url, '/api/chat', chatRequest(token, { message: '说到一半', requestId }));
      await stream.waitForText('第1段');
      const stopped = await stopRequest(stack.url, token, requestId);
      assert.deepEqual(stopped.json(), { status: 'stopping' });
      const body = (await stream.ended).toString('utf8');
      assert.deepEqual(parseReplyBody(body).events.at(-1)?.data, { finishReason: 'stopped' });
      assert.deepEqual((await stopRequest(stack.url, token, requestId)).json(), { status: 'ended' });
    });

    test('a malformed requestId is refused on the chat route and unknown on the stop route', async () => {
      const bad = await send(stack.url, '/api/chat', chatRequest(token, { message: 'x', requestId: 'short' }));
      assert.equal(bad.status, 400);
      assert.equal((await stopRequest(stack.url, token, 'no')).status, 404);
      const badDelivery = await send(stack.url, '/api/chat', chatRequest(token, { message: 'x', delivery: 'carrier-pigeon' }));
      assert.equal(badDelivery.status, 400);
    });
  });
}
