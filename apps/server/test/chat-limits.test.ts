import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROUTES, parseErrorBody, routePath } from '@wxstream/protocol';
import { getConversation, startOf } from './support/api-client.ts';
import { parseExposition, valueOf } from './support/exposition.ts';
import { chatRequest, login, openStream, send, type HttpAnswer } from './support/http-client.ts';
import { parseReplyBody } from './support/reply-stream.ts';
import { startEmulator, startStack, startTestServer } from './support/test-server.ts';
import { createTestClock } from './support/test-clock.ts';
import { eventually, PATIENCE_MS } from './support/eventually.ts';

async function chatOk(url: string, token: string, message = 'hi') {
  const answer = await send(url, '/api/chat', chatRequest(token, { message }));
  assert.equal(answer.status, 200, answer.text);
  assert.equal(parseReplyBody(answer.text).events.at(-1)?.type, 'done');
  return answer;
}

function assertRefused(answer: HttpAnswer, status: number, code: string): void {
  assert.equal(answer.status, status, answer.text);
  assert.equal(parseErrorBody(answer.json())?.code, code);
}

function retryAfterOf(answer: HttpAnswer): number {
  const header = answer.headers['retry-after'];
  assert.match(String(header), /^\d+$/, 'Retry-After is a whole number of seconds');
  return Number(header);
}

test('50 parallel chats from one user: exactly one streams, the other 49 get 409 reply_in_progress, and nothing leaks', async () => {
  const stack = await startStack({ scenario: { content: ['held', ' open'], stallAfter: 2 } });
  try {
    const token = await login(stack.url);
    const streams = await Promise.all(Array.from({ length: 50 }, () => openStream(stack.url, '/api/chat', chatRequest(token, { message: 'at once' }))));
    const streaming = streams.filter((stream) => stream.status === 200);
    const refused = streams.filter((stream) => stream.status === 409);
    assert.equal(streaming.length, 1);
    assert.equal(refused.length, 49);
    for (const stream of refused) {
      const body = JSON.parse((await stream.ended).toString('utf8')) as unknown;
      assert.equal(parseErrorBody(body)?.code, 'reply_in_progress');
      assert.equal(stream.headers['retry-after'], undefined, 'nobody knows when the other reply ends');
    }
    assert.equal(stack.emulator.requests.length, 1, 'only the admitted chat reached the model');

    const [held] = streaming;
    await held?.waitForText('held');
    // Leaving does not end a reply any more (CONTINUE_ON_DISCONNECT); stopping it does.
    const messageId = startOf(held?.text() ?? '').messageId;
    held?.destroy();
    const stop = await send(stack.url, routePath(ROUTES.stopReply, { messageId }), { method: 'POST', headers: { Authorization: `Bearer ${token}` } });
    assert.equal(stop.status, 200, stop.text);
    await stack.emulator.waitForAbort(0, PATIENCE_MS);
    await eventually(() => stack.app.server.activeReplies === 0, 'the stopped reply to conclude');

    stack.emulator.setScenario({ content: ['next'] });
    const next = await chatOk(stack.url, token, 'the lock was released');
    assert.equal(parseReplyBody(next.text).text, 'next');

    const samples = parseExposition((await send(stack.url, '/metrics')).text);
    assert.equal(valueOf(samples, 'wxstream_limit_refusals_total', { limit: 'reply_in_progress' }), 49);
    assert.equal(valueOf(samples, 'wxstream_replies_in_progress'), 0);
    assert.equal(valueOf(samples, 'wxstream_replies_total', { outcome: 'stopped' }), 1);
    assert.equal(valueOf(samples, 'wxstream_replies_total', { outcome: 'done' }), 1);
  } finally {
    await stack.close();
  }
});

test('a long reply renews its lease, so a second chat is still refused after the lock TTL has passed', async () => {
  // The model holds its stream after two pieces while the test moves the clock three TTLs on, a
  // quarter TTL at a time: each renewal (every third of the TTL) falls due and runs on the way.
  const clock = createTestClock();
  let release = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  const pieces = Array.from({ length: 16 }, (_, index) => `p${index} `);
  const stack = await startStack({ clock, env: { REPLY_LOCK_TTL_MS: '1000' }, scenario: { content: pieces, holdAfter: { events: 3, until: held } } });
  try {
    const token = await login(stack.url);
    const stream = await openStream(stack.url, '/api/chat', chatRequest(token, { message: 'a long answer' }));
    await stream.waitForText('p1 ');
    for (let step = 0; step < 12; step += 1) {
      clock.advance(250);
      await new Promise((resolve) => setImmediate(resolve));
    }
    assertRefused(await send(stack.url, '/api/chat', chatRequest(token, { message: 'too soon' })), 409, 'reply_in_progress');
    release();
    await stream.ended;
    await eventually(() => stack.app.server.activeReplies === 0, 'the reply to conclude');
    stack.emulator.setScenario({ content: ['ok'] });
    await chatOk(stack.url, token, 'after the reply');
  } finally {
    await stack.close();
  }
});

test('the rate limit answers 429 rate_limited with Retry-After, per user', async () => {
  const stack = await startStack({ env: { RATE_LIMIT_PER_MINUTE: '1', RATE_LIMIT_BURST: '1' }, scenario: { content: ['ok'] } });
  try {
    const token = await login(stack.url, 'hasty');
    await chatOk(stack.url, token);
    const refused = await send(stack.url, '/api/chat', chatRequest(token, { message: 'again' }));
    assertRefused(refused, 429, 'rate_limited');
    assert.equal((refused.json() as { error: { retryable: boolean } }).error.retryable, true);
    const wait = retryAfterOf(refused);
    assert.ok(wait >= 1 && wait <= 60, `Retry-After ${wait}`);
    assert.equal(stack.emulator.requests.length, 1);
    await chatOk(stack.url, await login(stack.url, 'patient'), 'another user is not limited');
    const samples = parseExposition((await send(stack.url, '/metrics')).text);
    assert.equal(valueOf(samples, 'wxstream_limit_refusals_total', { limit: 'rate' }), 1);
  } finally {
    await stack.close();
  }
});

test('a used-up daily quota answers 429 quota_exceeded with Retry-After until midnight in UTC+8, counting each reply once', async () => {
  // 2025-01-01 00:00 UTC is 08:00 in UTC+8: the quota day ends in 16 hours.
  const clock = createTestClock(Date.UTC(2025, 0, 1));
  const stack = await startStack({ clock, env: { DAILY_TOKEN_QUOTA: '41' }, scenario: { content: ['ok'], usage: { promptTokens: 12, completionTokens: 8 } } });
  try {
    const token = await login(stack.url, 'thrifty');
    // 0, 20 and 40 tokens used before each: all below 41. Counting a reply twice would refuse the third.
    for (let turn = 0; turn < 3; turn += 1) await chatOk(stack.url, token, `turn ${turn}`);
    const refused = await send(stack.url, '/api/chat', chatRequest(token, { message: 'one more' }));
    assertRefused(refused, 429, 'quota_exceeded');
    const wait = retryAfterOf(refused);
    assert.ok(wait > 16 * 3600 - 60 && wait <= 16 * 3600, `Retry-After ${wait}`);
    assert.equal(stack.emulator.requests.length, 3);
    clock.advance(16 * 3600 * 1000);
    await chatOk(stack.url, token, 'a new day');
    const samples = parseExposition((await send(stack.url, '/metrics')).text);
    assert.equal(valueOf(samples, 'wxstream_limit_refusals_total', { limit: 'quota' }), 1);
  } finally {
    await stack.close();
  }
});

test('without usage from the provider the quota counts an estimate of the reply', async () => {
  const stack = await startStack({ env: { DAILY_TOKEN_QUOTA: '100' }, scenario: { content: ['字'.repeat(120)], usage: null } });
  try {
    const token = await login(stack.url);
    const answer = await chatOk(stack.url, token, '写一段长文');
    const stored = (await getConversation(stack.url, token, startOf(answer.text).conversationId)).messages[1];
    assert.equal(stored?.usage?.completionTokens, 120, 'one token per Han character');
    assert.ok((stored?.usage?.promptTokens ?? 0) > 0);
    assertRefused(await send(stack.url, '/api/chat', chatRequest(token, { message: 'more' })), 429, 'quota_exceeded');
  } finally {
    await stack.close();
  }
});

test('the quota is counted from the database, so a restart does not reset it', async () => {
  const directory = mkdtempSync(join(tmpdir(), 'wxstream-quota-'));
  const emulator = await startEmulator({ scenario: { content: ['ok'], usage: { promptTokens: 30, completionTokens: 30 } } });
  try {
    const env = { DATABASE_PATH: join(directory, 'quota.sqlite'), DAILY_TOKEN_QUOTA: '50' };
    const first = await startTestServer({ upstream: emulator, env });
    await chatOk(first.url, await login(first.url, 'spender'));
    await first.close();
    const second = await startTestServer({ upstream: emulator, env });
    try {
      const refused = await send(second.url, '/api/chat', chatRequest(await login(second.url, 'spender'), { message: 'after restart' }));
      assertRefused(refused, 429, 'quota_exceeded');
    } finally {
      await second.close();
    }
  } finally {
    await emulator.close();
    rmSync(directory, { recursive: true, force: true });
  }
});
