import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { WxstreamError, type ReplyEvent } from '@wxstream/protocol';
import { keepLeaseAlive } from '../src/chat/lease-keeper.ts';
import { CLIENT_CLOSED_FINISH_REASON, concludeReply } from '../src/chat/reply-conclusion.ts';
import { createReplyContentGuard } from '../src/chat/reply-content-guard.ts';
import { createReplyRecorder } from '../src/chat/reply-recorder.ts';
import { createStoredUsageQuota } from '../src/chat/stored-usage-quota.ts';
import { InMemoryReplyLocks } from '../src/limits/in-memory-reply-locks.ts';
import { createLogger } from '../src/logger.ts';
import { openSqliteStore } from '../src/storage/sqlite-store.ts';
import type { ContentChecker, ContentCheckInput, ContentCheckResult } from '../src/wechat/content-checker.ts';
import { createManualClock } from './support/manual-clock.ts';

const log = createLogger({ level: 'silent' });
let nextEventId = 1;
const delta = (text: string): ReplyEvent => ({ id: nextEventId++, type: 'delta', data: { text } });
const reasoning = (text: string): ReplyEvent => ({ id: nextEventId++, type: 'reasoning', data: { text } });
const flushPromises = () => new Promise((resolve) => setImmediate(resolve));

async function storeWithReply(clock = createManualClock(Date.UTC(2025, 0, 1))) {
  const store = await openSqliteStore({ path: ':memory:', clock });
  const user = await store.ensureUser('dev:recorder');
  const conversation = await store.createConversation(user.id, 'recording');
  await store.addUserMessage(user.id, conversation.id, { text: 'question' });
  const reply = await store.startAssistantMessage(user.id, conversation.id, { model: 'm' });
  const stored = async () => (await store.listMessages(user.id, conversation.id))[1];
  return { clock, store, user, conversation, reply, stored };
}

describe('reply recorder', () => {
  test('checkpoints the whole text so far once the interval after the first unsaved character has passed', async () => {
    const { clock, store, reply, stored } = await storeWithReply();
    const recorder = createReplyRecorder({ store, messageId: reply.id, clock, checkpointIntervalMs: 1000, checkpointChars: 1000, log });
    recorder.observe(reasoning('想'));
    recorder.observe(delta('一'));
    clock.advance(999);
    await flushPromises();
    assert.equal((await stored())?.text, '');
    recorder.observe(delta('二'));
    clock.advance(1);
    await flushPromises();
    assert.equal((await stored())?.text, '一二');
    assert.equal((await stored())?.reasoning, '想');
    assert.equal((await stored())?.status, 'streaming');
    assert.equal(recorder.checkpoints, 1);
    clock.advance(5000);
    await flushPromises();
    assert.equal(recorder.checkpoints, 1, 'nothing new, nothing written');
    await store.close();
  });

  test('checkpoints at once when enough characters arrived, without waiting for the interval', async () => {
    const { clock, store, reply, stored } = await storeWithReply();
    const recorder = createReplyRecorder({ store, messageId: reply.id, clock, checkpointIntervalMs: 60_000, checkpointChars: 5, log });
    recorder.observe(delta('abc'));
    await flushPromises();
    assert.equal(recorder.checkpoints, 0);
    recorder.observe(delta('de'));
    await flushPromises();
    assert.equal((await stored())?.text, 'abcde');
    assert.equal(recorder.checkpoints, 1);
    await store.close();
  });

  test('finish writes the final state once; later events and checkpoints cannot overwrite it', async () => {
    const { clock, store, reply, stored } = await storeWithReply();
    const recorder = createReplyRecorder({ store, messageId: reply.id, clock, checkpointIntervalMs: 10, checkpointChars: 1000, log });
    recorder.observe(delta('final text'));
    const finished = await recorder.finish({ status: 'complete', finishReason: 'stop', usage: { promptTokens: 3, completionTokens: 2 } });
    assert.equal(finished?.status, 'complete');
    recorder.observe(delta(' and more'));
    clock.advance(100);
    await flushPromises();
    const message = await stored();
    assert.equal(message?.text, 'final text');
    assert.equal(message?.finishReason, 'stop');
    assert.equal(message?.promptTokens, 3);
    await store.close();
  });

  test('a blocked ending clears the text and reasoning already checkpointed', async () => {
    const { clock, store, reply, stored } = await storeWithReply();
    const recorder = createReplyRecorder({ store, messageId: reply.id, clock, checkpointIntervalMs: 10, checkpointChars: 1, log });
    recorder.observe(reasoning('risky thought'));
    recorder.observe(delta('risky words'));
    await flushPromises();
    assert.equal((await stored())?.text, 'risky words');
    await recorder.finish({ status: 'blocked', errorCode: 'content_blocked', clearText: true });
    const message = await stored();
    assert.equal(message?.status, 'blocked');
    assert.equal(message?.text, '');
    assert.equal(message?.reasoning, '');
    await store.close();
  });

  test('a reply whose conversation was deleted stops checkpointing and finishes as gone', async () => {
    const { clock, store, user, conversation, reply } = await storeWithReply();
    const recorder = createReplyRecorder({ store, messageId: reply.id, clock, checkpointIntervalMs: 10, checkpointChars: 1, log });
    await store.deleteConversation(user.id, conversation.id);
    recorder.observe(delta('x'));
    await flushPromises();
    recorder.observe(delta('y'));
    await flushPromises();
    assert.equal(recorder.checkpoints, 1);
    assert.equal(await recorder.finish({ status: 'complete', finishReason: 'stop' }), undefined);
    await store.close();
  });
});

/** A checker whose verdicts the test decides and releases one by one. */
function scriptedChecker() {
  const pending: Array<{ input: ContentCheckInput; resolve: (result: ContentCheckResult) => void; reject: (error: unknown) => void }> = [];
  const checker: ContentChecker = {
    checkText(input) {
      return new Promise((resolve, reject) => {
        pending.push({ input, resolve, reject });
        input.signal?.addEventListener('abort', () => reject(input.signal?.reason), { once: true });
      });
    },
  };
  return { checker, pending };
}

describe('reply content guard', () => {
  const segments = { minChars: 4, maxChars: 50 };

  test('checks completed segments in the background, at most the concurrency limit at a time, and settles once all passed', async () => {
    const { checker, pending } = scriptedChecker();
    const stops: WxstreamError[] = [];
    const guard = createReplyContentGuard({ checker, openid: 'o', onStop: (error) => stops.push(error), log, maxConcurrentChecks: 2, segmenter: segments });
    guard.observe(delta('一二三四。五六七八。九十一二。三'));
    assert.equal(pending.length, 2, 'two checks run, the third segment waits');
    assert.deepEqual(
      pending.map((check) => [check.input.text, check.input.role, check.input.openid]),
      [
        ['一二三四。', 'assistant', 'o'],
        ['五六七八。', 'assistant', 'o'],
      ],
    );
    pending[0]?.resolve({ verdict: 'pass' });
    await flushPromises();
    assert.equal(pending.length, 3);
    const settled = guard.settle();
    for (let index = 1; index < 10 && index < pending.length + 1; index += 1) {
      await flushPromises();
      for (const check of pending.slice(1)) check.resolve({ verdict: 'review' });
    }
    assert.deepEqual(await settled, { kind: 'clear' });
    assert.equal(guard.checks, 4, 'the flushed last piece was checked too');
    assert.equal(pending.at(-1)?.input.text, '三');
    assert.deepEqual(stops, []);
  });

  test('a risky verdict stops the reply at once with content_blocked, and queued segments are dropped', async () => {
    const { checker, pending } = scriptedChecker();
    const stops: WxstreamError[] = [];
    const guard = createReplyContentGuard({ checker, openid: 'o', onStop: (error) => stops.push(error), log, maxConcurrentChecks: 1, segmenter: segments });
    guard.observe(reasoning('一二三四。五六七八。九'));
    pending[0]?.resolve({ verdict: 'risky', label: 20006 });
    await flushPromises();
    assert.equal(stops.length, 1);
    assert.equal(stops[0]?.code, 'content_blocked');
    assert.equal(pending.length, 1, 'nothing more is checked once the reply is stopped');
    assert.equal(pending[0]?.input.signal?.aborted, true, 'checks still in flight are abandoned');
    const verdict = await guard.settle();
    assert.equal(verdict.kind === 'stopped' && verdict.blocked, true);
  });

  test('a check that fails closed stops the reply with the checker error, not as blocked', async () => {
    const { checker, pending } = scriptedChecker();
    const stops: WxstreamError[] = [];
    const guard = createReplyContentGuard({ checker, openid: 'o', onStop: (error) => stops.push(error), log, segmenter: segments });
    guard.observe(delta('一二三四。五'));
    pending[0]?.reject(new WxstreamError('wechat_unavailable', 'WeChat is down'));
    await flushPromises();
    const verdict = await guard.settle();
    assert.equal(pending.length, 1, 'the last piece is not checked once the reply is stopped');
    assert.equal(verdict.kind, 'stopped');
    assert.equal(verdict.kind === 'stopped' ? verdict.blocked : undefined, false);
    assert.equal(stops[0]?.code, 'wechat_unavailable');
  });

  test('cancel abandons checks in flight: settle resolves with what was decided, and nothing stops the reply', async () => {
    const { checker, pending } = scriptedChecker();
    const stops: WxstreamError[] = [];
    const guard = createReplyContentGuard({ checker, openid: 'o', onStop: (error) => stops.push(error), log, segmenter: segments });
    guard.observe(delta('一二三四。五'));
    assert.equal(pending.length, 1);
    const settled = guard.settle();
    guard.cancel();
    assert.deepEqual(await settled, { kind: 'clear' });
    assert.deepEqual(stops, []);
  });
});

describe('reply conclusion', () => {
  const clear = { kind: 'clear' } as const;

  test('a finished reply is complete, a vanished client stopped with client_closed, an error keeps its code', () => {
    assert.deepEqual(concludeReply({ kind: 'done', finishReason: 'length', usage: undefined }, clear), {
      status: 'complete',
      finishReason: 'length',
      clearText: false,
      metricsOutcome: 'done',
    });
    assert.deepEqual(concludeReply({ kind: 'client_closed', usage: undefined }, clear), {
      status: 'stopped',
      finishReason: CLIENT_CLOSED_FINISH_REASON,
      clearText: false,
      metricsOutcome: 'disconnected',
    });
    const error = new WxstreamError('upstream_timeout', 'slow').toWire();
    assert.deepEqual(concludeReply({ kind: 'error', error, usage: undefined }, clear), {
      status: 'error',
      errorCode: 'upstream_timeout',
      clearText: false,
      metricsOutcome: 'error',
      metricsCode: 'upstream_timeout',
    });
  });

  test('a risky verdict makes any ending blocked without text, even after the client left', () => {
    const blocked = { kind: 'stopped', error: new WxstreamError('content_blocked', 'risky'), blocked: true } as const;
    for (const outcome of [
      { kind: 'done', finishReason: 'stop', usage: undefined } as const,
      { kind: 'client_closed', usage: undefined } as const,
    ]) {
      const conclusion = concludeReply(outcome, blocked);
      assert.equal(conclusion.status, 'blocked');
      assert.equal(conclusion.errorCode, 'content_blocked');
      assert.equal(conclusion.clearText, true);
      assert.equal(conclusion.metricsOutcome, 'blocked');
    }
  });
});

describe('daily quota over stored usage', () => {
  test('counts what stored replies used since the quota day began, and refuses until the next day', async () => {
    // 15:00 UTC is 23:00 in UTC+8: the day ends in one hour.
    const { clock, store, user, reply } = await storeWithReply(createManualClock(Date.UTC(2025, 0, 1, 15)));
    const quota = createStoredUsageQuota({ store, clock, dailyTokens: 100, utcOffsetMinutes: 480 });
    assert.deepEqual(await quota.check(user.id), { allowed: true, remaining: 100 });
    await store.updateAssistantMessage(reply.id, { status: 'complete', usage: { promptTokens: 70, completionTokens: 30 } });
    await quota.record(user.id, 100);
    assert.deepEqual(await quota.check(user.id), { allowed: false, retryAfterMs: 3_600_000 }, 'recording does not count twice');
    clock.advance(3_600_000);
    assert.deepEqual(await quota.check(user.id), { allowed: true, remaining: 100 });
    await store.close();
  });

  test('a quota of 0 is unlimited, and recording a nonsense count is a programming error', async () => {
    const { clock, store, user } = await storeWithReply();
    const quota = createStoredUsageQuota({ store, clock, dailyTokens: 0, utcOffsetMinutes: 480 });
    assert.deepEqual(await quota.check(user.id), { allowed: true, remaining: Number.POSITIVE_INFINITY });
    await assert.rejects(quota.record(user.id, -1), RangeError);
    await store.close();
  });
});

describe('lease keeper', () => {
  test('renews the lease every interval, so it outlives its TTL until stopped', async () => {
    const clock = createManualClock();
    const locks = new InMemoryReplyLocks({ clock, ttlMs: 1000 });
    const lease = await locks.tryAcquire('u', 'r1');
    assert.ok(lease);
    const keeper = keepLeaseAlive({ lease, clock, intervalMs: 300, log });
    for (let step = 0; step < 10; step += 1) {
      clock.advance(300);
      await flushPromises();
    }
    assert.equal(await locks.tryAcquire('u', 'r2'), undefined, 'three seconds later the lease is still held');
    keeper.stop();
    clock.advance(1000);
    assert.ok(await locks.tryAcquire('u', 'r3'), 'once renewing stopped, the TTL frees the user');
  });
});
