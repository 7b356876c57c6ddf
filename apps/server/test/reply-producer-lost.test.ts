/**
 * An instance killed mid-reply (SIGKILL: no shutdown, no goodbye) on one Redis and one PostgreSQL
 * with another instance: instance A is a real server process, instance B runs in this process. A
 * client resuming on B gets everything A had put in the reply log, then — once A's producer lease
 * has lapsed — exactly one retryable `server_shutdown`, within a bounded time; the stored reply is
 * no longer `streaming` but `error` with the text the client was sent. A reply nobody resumes is
 * ended the same way when its conversation is read. Skipped, with the reason, when Redis or
 * PostgreSQL is unreachable.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startOf, waitForStoredReply } from './support/api-client.ts';
import { eventually } from './support/eventually.ts';
import { parseExposition, valueOf } from './support/exposition.ts';
import { chatRequest, login, openStream, send } from './support/http-client.ts';
import { parseReplyBody } from './support/reply-stream.ts';
import { eventFrames, framesAfter, lastFrameId, openResume, resume } from './support/reply-routes-client.ts';
import { spawnServerProcess, type ServerProcess } from './support/server-process.ts';
import type { TestPostgres } from './support/test-postgres.ts';
import { connectRedisAndPostgres } from './support/test-shared-servers.ts';
import { TEST_REDIS_URL, type TestRedis } from './support/test-redis.ts';
import { TEST_API_KEY, TEST_TOKEN_SECRET, startEmulator, startTestServer, type TestServer } from './support/test-server.ts';
import type { OpenAICompatibleEmulator } from '../src/offline-model/openai-compatible-emulator.ts';

const servers = await connectRedisAndPostgres();
const skip = servers.available ? undefined : servers.skipReason;

/**
 * Short, so the test waits a few seconds for A's lease to lapse (Redis keeps real time); renewed
 * every second, so even a stall of A for two seconds on a loaded machine does not end its live reply.
 */
const LEASE_TTL_MS = 3000;
const CHECK_INTERVAL_MS = 100;

describe('an instance killed mid-reply', { skip }, () => {
  let redis: TestRedis;
  let postgres: TestPostgres;
  let emulator: OpenAICompatibleEmulator;
  let a: ServerProcess;
  let aUrl: string;
  let b: TestServer;
  let token: string;
  const processes: ServerProcess[] = [];
  let startA: () => Promise<{ process: ServerProcess; url: string }>;

  before(async () => {
    if (!servers.available) return;
    ({ redis, postgres } = servers);
    emulator = await startEmulator();
    const { databaseUrl } = await postgres.freshSchema();
    const shared = {
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: redis.keyPrefix,
      DATABASE_URL: databaseUrl,
      REPLY_PRODUCER_LEASE_TTL_MS: String(LEASE_TTL_MS),
      REPLY_PRODUCER_CHECK_INTERVAL_MS: String(CHECK_INTERVAL_MS),
      HEARTBEAT_INTERVAL_MS: '3600000',
    };
    startA = async () => {
      const started = spawnServerProcess({
        ...shared,
        OPENAI_BASE_URL: emulator.baseURL,
        OPENAI_API_KEY: TEST_API_KEY,
        OPENAI_MODEL: 'emulated-model',
        TOKEN_SECRET: TEST_TOKEN_SECRET,
        RATE_LIMIT_PER_MINUTE: '0',
        // As every test server: no side calls this test did not script.
        TITLE_GENERATION: 'false',
        FOLLOW_UP_SUGGESTIONS: 'false',
      });
      processes.push(started);
      return { process: started, url: await started.listening };
    };
    ({ process: a, url: aUrl } = await startA());
    b = await startTestServer({ upstream: emulator, env: shared });
    token = await login(aUrl);
  });

  after(async () => {
    if (!servers.available) return;
    for (const started of processes) {
      started.child.kill('SIGKILL');
      await started.exited;
    }
    await b?.close();
    await emulator?.close();
    await postgres.dispose();
    await redis.dispose();
  });

  test('a client resuming on the other instance gets the rest of what was produced, then exactly one server_shutdown within a bounded time, and the stored reply is ended', async () => {
    const content = Array.from({ length: 300 }, (_, index) => `第${index}句😀 `);
    emulator.setScenario({ reasoning: ['先想'], content, chunkDelayMs: 20 });
    const stream = await openStream(aUrl, '/api/chat', chatRequest(token, { message: 'A will be killed' }));
    await stream.waitForText('第2句');
    stream.destroy();
    const received = stream.text();
    const { messageId, conversationId } = startOf(received);
    const lastId = lastFrameId(received);
    // One client follows on B while A still generates; another comes after A is gone.
    const following = await openResume(b.url, token, messageId, String(lastId));
    await following.waitForText('第6句');

    a.child.kill('SIGKILL');
    assert.equal(await a.exited, null, 'killed by the signal, not exited');
    const producedByA = Number(await redis.connections.commands.hGet(`${redis.keyPrefix}reply:{${messageId}}:meta`, 'lastId'));

    // The model would go on for seconds and A is gone: only B's lease check can end this stream.
    const tail = (await following.ended).toString('utf8');
    const whole = parseReplyBody(eventFrames(received).join('') + tail);
    assert.deepEqual(
      whole.events.map((event) => event.id),
      whole.events.map((_, index) => index + 1),
      'ids run without a gap or a repeat',
    );
    const terminals = whole.events.filter((event) => event.type === 'done' || event.type === 'error');
    assert.equal(terminals.length, 1);
    const last = whole.events.at(-1);
    assert.equal(last?.id, producedByA + 1, 'everything A produced, then the terminal with the next id');
    assert.deepEqual(last?.type === 'error' ? { code: last.data.code, retryable: last.data.retryable } : last, { code: 'server_shutdown', retryable: true });
    assert.ok(whole.text.length > parseReplyBody(eventFrames(received).join('')).text.length, 'A produced more after the first client left');
    assert.ok(whole.text.length < content.join('').length, 'the reply was cut short');

    const later = await resume(b.url, token, messageId, String(lastId));
    assert.equal(later.status, 200);
    assert.equal(later.text, tail, 'a resume after the end replays the same bytes, the same one terminal');
    assert.equal(framesAfter((await resume(b.url, token, messageId, '0')).text, lastId), tail);

    const stored = await waitForStoredReply(b.url, token, conversationId);
    assert.deepEqual({ status: stored.status, errorCode: stored.errorCode }, { status: 'error', errorCode: 'server_shutdown' });
    assert.equal(stored.text, whole.text, 'the stored text is what the clients were sent');
    const metrics = parseExposition((await send(b.url, '/metrics')).text);
    assert.equal(valueOf(metrics, 'wxstream_replies_abandoned_total'), 1);

    emulator.setScenario({ content: ['好的。'] });
    const next = await send(b.url, '/api/chat', chatRequest(token, { message: 'right after the error', conversationId }));
    assert.equal(next.status, 200, `the dead instance's reply lock went with its reply, so 重试 is not refused: ${next.text.slice(0, 200)}`);
  });

  test('a reply nobody resumes is ended when its conversation is read after the lease lapsed: stored as error with all it had produced, its log ended once', async () => {
    const { process: killed, url } = await startA();
    // A fresh user, so this reply's lock is the only one the killed instance holds for them.
    const other = await login(url, 'nobody-resumes');
    emulator.setScenario({ content: Array.from({ length: 300 }, (_, index) => `段${index} `), chunkDelayMs: 20 });
    const stream = await openStream(url, '/api/chat', chatRequest(other, { message: 'killed, never resumed' }));
    await stream.waitForText('段3 ');
    stream.destroy();
    const { messageId, conversationId } = startOf(stream.text());
    killed.child.kill('SIGKILL');
    await killed.exited;
    await sleep(LEASE_TTL_MS + 100);

    const stored = await waitForStoredReply(b.url, other, conversationId, (message) => message.status !== 'streaming');
    assert.deepEqual({ status: stored.status, errorCode: stored.errorCode }, { status: 'error', errorCode: 'server_shutdown' });
    const replay = parseReplyBody((await resume(b.url, other, messageId, '0')).text);
    assert.equal(stored.text, replay.text, 'the stored text is everything the log holds');
    assert.ok(replay.text.startsWith('段0 段1 段2 段3 '));
    assert.deepEqual(
      replay.events.filter((event) => event.type === 'done' || event.type === 'error').map((event) => [event.id, event.type]),
      [[replay.events.length, 'error']],
      'one terminal, last',
    );
    const metrics = parseExposition((await send(b.url, '/metrics')).text);
    assert.equal(valueOf(metrics, 'wxstream_replies_abandoned_total'), 2);
  });

  test('stopping a reply whose instance died ends it at once: ended, with one server_shutdown, and its user free to send again', async () => {
    const { process: killed, url } = await startA();
    const user = await login(url, 'stops-a-dead-reply');
    emulator.setScenario({ content: Array.from({ length: 300 }, (_, index) => `停${index} `), chunkDelayMs: 20 });
    const stream = await openStream(url, '/api/chat', chatRequest(user, { message: 'killed, then stopped' }));
    await stream.waitForText('停2 ');
    stream.destroy();
    const { messageId, conversationId } = startOf(stream.text());
    killed.child.kill('SIGKILL');
    await killed.exited;
    await sleep(LEASE_TTL_MS + 100);

    const stop = await send(b.url, `/api/chat/${messageId}/stop`, { method: 'POST', headers: { Authorization: `Bearer ${user}` } });
    assert.equal(stop.status, 200);
    assert.deepEqual(stop.json(), { status: 'ended' }, 'nobody could stop it any more, so it ended here');
    const replay = parseReplyBody((await resume(b.url, user, messageId, '0')).text);
    const terminals = replay.events.filter((event) => event.type === 'done' || event.type === 'error');
    assert.deepEqual(
      terminals.map((event) => (event.type === 'error' ? event.data.code : event.type)),
      ['server_shutdown'],
    );
    const stored = await waitForStoredReply(b.url, user, conversationId);
    assert.equal(stored.status, 'error');
    emulator.setScenario({ content: ['好的。'] });
    assert.equal((await send(b.url, '/api/chat', chatRequest(user, { message: 'again', conversationId }))).status, 200);
  });

  test('the surviving instance is left with no reply in flight and no open upstream request', async () => {
    await eventually(() => b.server.activeReplies === 0, 'B to have no reply in flight');
    // A's model call died with A's sockets.
    await eventually(() => !emulator.requests.some((request) => request.finishedAt === undefined && !request.aborted), 'every upstream request to be closed').catch(() => undefined);
    assert.deepEqual(
      emulator.requests.filter((request) => request.finishedAt === undefined && !request.aborted).map((request) => request.index),
      [],
    );
  });
});
