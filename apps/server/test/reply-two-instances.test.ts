/**
 * Two server instances on different ports sharing one Redis (unique key prefix) and one PostgreSQL
 * (unique schema), with one upstream emulator: a reply started on one instance is resumed from the
 * other byte for byte, stopped from the other, the one-reply-at-a-time rule holds across both, and
 * when the generating instance shuts down a client resuming on the other gets everything that was
 * produced plus `server_shutdown`. Skipped, with the reason, when Redis or PostgreSQL is unreachable.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parseErrorBody } from '@wxstream/protocol';
import { startOf, waitForStoredReply } from './support/api-client.ts';
import { eventually, PATIENCE_MS } from './support/eventually.ts';
import { chatRequest, login, openStream, send } from './support/http-client.ts';
import { parseReplyBody } from './support/reply-stream.ts';
import { eventFrames, framesAfter, lastFrameId, openResume, resume, stopReply } from './support/reply-routes-client.ts';
import type { TestPostgres } from './support/test-postgres.ts';
import { connectRedisAndPostgres } from './support/test-shared-servers.ts';
import { TEST_REDIS_URL, type TestRedis } from './support/test-redis.ts';
import { startEmulator, startTestServer, type TestServer } from './support/test-server.ts';
import type { OpenAICompatibleEmulator } from '../src/offline-model/openai-compatible-emulator.ts';

const servers = await connectRedisAndPostgres();
const skip = servers.available ? undefined : servers.skipReason;

describe('two instances sharing Redis and PostgreSQL', { skip }, () => {
  let redis: TestRedis;
  let postgres: TestPostgres;
  let emulator: OpenAICompatibleEmulator;
  let a: TestServer;
  let b: TestServer;
  let token: string;

  const startInstance = (databaseUrl: string, env: Record<string, string> = {}) =>
    startTestServer({
      upstream: emulator,
      env: { REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: redis.keyPrefix, DATABASE_URL: databaseUrl, HEARTBEAT_INTERVAL_MS: '3600000', ...env },
    });

  before(async () => {
    if (!servers.available) return;
    ({ redis, postgres } = servers);
    emulator = await startEmulator();
    const { databaseUrl } = await postgres.freshSchema();
    a = await startInstance(databaseUrl, { SHUTDOWN_GRACE_MS: '100' });
    b = await startInstance(databaseUrl);
    assert.notEqual(a.server.port, b.server.port);
    assert.equal(a.server.sharedState, 'redis');
    token = await login(a.url);
  });

  after(async () => {
    if (!servers.available) return;
    await a?.close();
    await b?.close();
    await emulator?.close();
    await postgres.dispose();
    await redis.dispose();
  });

  const slowReply = (count: number, delayMs: number) => {
    const content = Array.from({ length: count }, (_, index) => `第${index}句😀 `);
    emulator.setScenario({ reasoning: ['先想'], content, chunkDelayMs: delayMs });
    return content;
  };

  test('a reply started on one instance is resumed from the other, live and then finished, byte for byte', async () => {
    const content = slowReply(30, 15);
    const first = await openStream(a.url, '/api/chat', chatRequest(token, { message: 'start on A' }));
    await first.waitForText('第3句');
    first.destroy();
    const received = first.text();
    const { messageId, conversationId } = startOf(received);
    const lastId = lastFrameId(received);

    const rest = await openResume(b.url, token, messageId, String(lastId), 'both');
    assert.equal(rest.status, 200);
    const tail = (await rest.ended).toString('utf8');
    const whole = parseReplyBody(eventFrames(received).join('') + tail);
    assert.equal(whole.text, content.join(''));
    assert.equal(whole.events.at(-1)?.type, 'done');

    const replayA = (await resume(a.url, token, messageId, '0')).text;
    const replayB = (await resume(b.url, token, messageId, '0')).text;
    assert.equal(replayB, replayA, 'both instances replay the same bytes');
    assert.equal(tail, framesAfter(replayA, lastId), 'the live resume sent exactly the remainder');
    assert.equal(eventFrames(received).join(''), framesAfter(replayA, 0).slice(0, eventFrames(received).join('').length));
    const stored = await waitForStoredReply(b.url, token, conversationId);
    assert.equal(stored.status, 'complete');
    assert.equal(stored.text, content.join(''));
  });

  test('one reply at a time per user holds across both instances', async () => {
    slowReply(200, 20);
    const running = await openStream(a.url, '/api/chat', chatRequest(token, { message: 'hold the lock on A' }));
    await running.waitForText('第1句');
    const refused = await send(b.url, '/api/chat', chatRequest(token, { message: 'second on B' }));
    assert.equal(refused.status, 409);
    assert.equal(parseErrorBody(refused.json())?.code, 'reply_in_progress');
    const { messageId } = startOf(running.text());
    assert.deepEqual((await stopReply(b.url, token, messageId)).json(), { status: 'stopping' });
    await running.ended;
  });

  test('a stop sent to the other instance stops the reply: the model call aborted, done stopped, stored stopped', async () => {
    // A few pieces, then the model holds the stream open for ever: only the stop can end it.
    const content = Array.from({ length: 200 }, (_, index) => `第${index}句😀 `);
    emulator.setScenario({ reasoning: ['先想'], content, stallAfter: 8 });
    const index = emulator.requests.length;
    const stream = await openStream(a.url, '/api/chat', chatRequest(token, { message: 'stop me from B' }));
    await stream.waitForText('第2句');
    const { messageId, conversationId } = startOf(stream.text());
    const stop = await stopReply(b.url, token, messageId);
    assert.deepEqual(stop.json(), { status: 'stopping' });
    await emulator.waitForAbort(index, PATIENCE_MS);
    const reply = parseReplyBody((await stream.ended).toString('utf8'));
    const last = reply.events.at(-1);
    assert.deepEqual(last?.type === 'done' ? last.data : last, { finishReason: 'stopped' });
    assert.ok(reply.text.length < content.join('').length);
    const stored = await waitForStoredReply(b.url, token, conversationId);
    assert.equal(stored.status, 'stopped');
    assert.equal(stored.text, reply.text);
    assert.deepEqual((await stopReply(b.url, token, messageId)).json(), { status: 'ended' });
  });

  test('when the generating instance shuts down, a client resuming on the other gets everything produced plus server_shutdown', async () => {
    slowReply(300, 20);
    const stream = await openStream(a.url, '/api/chat', chatRequest(token, { message: 'A will go away' }));
    await stream.waitForText('第2句');
    stream.destroy();
    const received = stream.text();
    const { messageId, conversationId } = startOf(received);
    const lastId = lastFrameId(received);
    await a.close();

    const rest = await resume(b.url, token, messageId, String(lastId), 'query');
    assert.equal(rest.status, 200);
    const whole = parseReplyBody(eventFrames(received).join('') + rest.text);
    assert.deepEqual(
      whole.events.map((event) => event.id),
      whole.events.map((_, index) => index + 1),
    );
    const last = whole.events.at(-1);
    assert.equal(last?.type, 'error');
    assert.deepEqual(last?.type === 'error' ? { code: last.data.code, retryable: last.data.retryable } : last, { code: 'server_shutdown', retryable: true });
    assert.ok(whole.text.length > parseReplyBody(eventFrames(received).join('')).text.length, 'more was produced after the client left');
    const stored = await waitForStoredReply(b.url, token, conversationId);
    assert.equal(stored.status, 'error');
    assert.equal(stored.errorCode, 'server_shutdown');
    assert.equal(stored.text, whole.text);
  });

  test('afterwards nothing is left running: no open upstream request, no reply in flight', async () => {
    await eventually(() => b.server.activeReplies === 0, 'B to have no reply in flight');
    assert.equal(a.server.activeReplies, 0);
    const open = () => emulator.requests.filter((request) => request.finishedAt === undefined && !request.aborted).map((request) => request.index);
    await eventually(() => open().length === 0, 'every upstream request to be closed').catch(() => undefined);
    assert.deepEqual(open(), []);
  });
});
