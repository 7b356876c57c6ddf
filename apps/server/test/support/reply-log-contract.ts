/**
 * Contract suite for reply logs, reusable by every implementation (in-process, Redis). The factory
 * builds a FRESH log (its own namespace in a shared store) with the options it is given and
 * returns it with the few handles the suite needs: how to let time pass for retention (a manual
 * clock, or real waiting where the store's TTLs run on its own clock) and how many readers are
 * following live (for leak checks).
 *
 * Replies are built with the server's own `ReplySequencer`, so the events are exactly what a
 * producer appends. Tests wait for a reader to be following with `until`, a bounded poll — a
 * synchronisation, never a timing assertion.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { WxstreamError, formatSseEvent, isTerminalEvent, type ReplyEvent } from '@wxstream/protocol';
import { ReplySequencer } from '../../src/chat/reply-sequencer.ts';
import { ReplyLogWriteError, ReplyNotFoundError, type ReplyLog, type ReplyLogWriteRefusal } from '../../src/reply-log/reply-log.ts';
import { eventually } from './eventually.ts';

export interface ReplyLogSubject {
  readonly log: ReplyLog;
  /** The log's clock, in epoch ms. */
  now(): number;
  /** Lets `ms` pass as the log's retention sees time. */
  elapse(ms: number): Promise<void>;
  /** Readers following live now: 0 once every reader has finished. */
  followers(): Promise<number>;
}

export interface ReplyLogSubjectOptions {
  retentionMs: number;
  maxEvents: number;
}

export interface ReplyLogContractSettings {
  /** Retention for the expiry tests: long under a manual clock, short where time is real. */
  readonly shortRetentionMs: number;
  /** How late past its retention a log may still be seen: 0 for a manual clock. */
  readonly expiryMarginMs: number;
  /** The producer lease TTL the factory's logs use (a log without leases: any silence to test with). */
  readonly producerLeaseTtlMs: number;
}

const LONG_RETENTION_MS = 600_000;
const MAX_EVENTS = 20_000;
const OWNER = { userId: 'u1', conversationId: 'c1' };
const PRODUCER_GONE = { code: 'server_shutdown', message: 'the instance generating this reply is gone', retryable: true } as const;

/** Texts that have broken streaming code before: CJK, astral emoji and ZWJ-free modifiers, escapes, line separators, a BOM, a combining mark, a lone surrogate. */
const SAMPLE_TEXTS = ['你好', '，世界。', '😀👍🏽', ' "quoted" \\ back', '\n\n', '\u2028\u2029', '\uFEFF', 'e\u0301', '\uD800', 'plain ascii '];

/** A complete reply of exactly `count` events (≥ 4): start, one reasoning, deltas, usage, done. */
export function replyEvents(count: number, ending: 'done' | 'error' = 'done'): ReplyEvent[] {
  if (count < 4) throw new RangeError('a sample reply has at least 4 events');
  const sequencer = new ReplySequencer();
  const events: ReplyEvent[] = [sequencer.start({ conversationId: 'c1', messageId: 'm1', model: 'test-model' })];
  const push = (event: ReplyEvent | undefined) => {
    assert.ok(event);
    events.push(event);
  };
  push(sequencer.reasoning('thinking…'));
  for (let i = 0; events.length < count - 2; i++) push(sequencer.delta(SAMPLE_TEXTS[i % SAMPLE_TEXTS.length] ?? 'x'));
  push(sequencer.usage({ promptTokens: 12, completionTokens: count }));
  push(ending === 'done' ? sequencer.done({ finishReason: 'stop' }) : sequencer.error({ code: 'upstream_error', message: 'the model failed', retryable: true }));
  return events;
}

export async function collect(events: AsyncIterable<ReplyEvent>): Promise<ReplyEvent[]> {
  const seen: ReplyEvent[] = [];
  for await (const event of events) seen.push(event);
  return seen;
}

/** Waits until `condition` holds; a hang guard (`eventually`), never a claim about speed. */
export async function until(condition: () => Promise<boolean> | boolean, what: string): Promise<void> {
  await eventually(condition, what);
}

async function appendAll(log: ReplyLog, replyId: string, events: readonly ReplyEvent[]): Promise<void> {
  for (const event of events) await log.append(replyId, event);
}

function assertRefused(reason: ReplyLogWriteRefusal): (error: unknown) => boolean {
  return (error) => error instanceof ReplyLogWriteError && error.reason === reason;
}

function isNotFound(error: unknown): boolean {
  return error instanceof ReplyNotFoundError && error instanceof WxstreamError && error.code === 'not_found';
}

export function describeReplyLogContract(
  name: string,
  create: (options: ReplyLogSubjectOptions) => Promise<ReplyLogSubject>,
  settings: ReplyLogContractSettings,
): void {
  const setup = async (options: Partial<ReplyLogSubjectOptions> = {}) => {
    const subject = await create({ retentionMs: LONG_RETENTION_MS, maxEvents: MAX_EVENTS, ...options });
    const replyId = `reply-${randomUUID()}`;
    await subject.log.create(replyId, OWNER);
    return { subject, log: subject.log, replyId };
  };
  const followerCount = (subject: ReplyLogSubject, count: number) => async () => (await subject.followers()) === count;

  describe(name, () => {
    test('a new log is live, empty, owned by its creator, and set to expire one retention after its creation', async () => {
      const { subject, log, replyId } = await setup();
      const meta = await log.meta(replyId);
      assert.ok(meta);
      assert.deepEqual({ ...meta, expiresAt: 0 }, { userId: 'u1', conversationId: 'c1', state: 'live', lastEventId: 0, expiresAt: 0 });
      assert.ok(meta.expiresAt > subject.now() && meta.expiresAt <= subject.now() + LONG_RETENTION_MS, `expiresAt ${meta.expiresAt}`);
    });

    test('replay after every id yields exactly the events after it, in order', async () => {
      const { log, replyId } = await setup();
      const events = replyEvents(14);
      await appendAll(log, replyId, events);
      for (let afterId = 0; afterId <= events.length; afterId++) {
        assert.deepEqual(await collect(log.read(replyId, afterId)), events.slice(afterId), `after id ${afterId}`);
      }
      assert.deepEqual(await collect(log.read(replyId, events.length + 10)), [], 'past the terminal there is nothing');
      const meta = await log.meta(replyId);
      assert.equal(meta?.state, 'ended');
      assert.equal(meta?.lastEventId, events.length);
    });

    test('a reader that started before the events follows them live and finishes at the terminal', async () => {
      const { subject, log, replyId } = await setup();
      const events = replyEvents(8);
      const reading = collect(log.read(replyId, 0));
      await until(followerCount(subject, 1), 'the reader follows live');
      for (const event of events) {
        await log.append(replyId, event);
        await sleep(1);
      }
      assert.deepEqual(await reading, events);
      assert.equal(await subject.followers(), 0);
    });

    test('a reader resuming mid-reply gets the stored rest, then the live events, with the same ids', async () => {
      const { subject, log, replyId } = await setup();
      const events = replyEvents(10);
      await appendAll(log, replyId, events.slice(0, 6));
      const reading = collect(log.read(replyId, 3));
      await until(followerCount(subject, 1), 'the reader caught up and follows live');
      await appendAll(log, replyId, events.slice(6));
      assert.deepEqual(await reading, events.slice(3));
    });

    test('several concurrent readers each get every event after their own id, in order', async () => {
      const { subject, log, replyId } = await setup();
      const events = replyEvents(30);
      await appendAll(log, replyId, events.slice(0, 10));
      const starts = [0, 0, 4, 10, 25];
      const readings = starts.map((afterId) => collect(log.read(replyId, afterId)));
      await until(followerCount(subject, starts.length), 'all readers follow live');
      for (const event of events.slice(10)) {
        await log.append(replyId, event);
        if (event.id % 5 === 0) await sleep(1);
      }
      const results = await Promise.all(readings);
      starts.forEach((afterId, i) => assert.deepEqual(results[i], events.slice(afterId), `reader after ${afterId}`));
      assert.equal(await subject.followers(), 0);
    });

    test('an error terminal ends the reply just as done does', async () => {
      const { log, replyId } = await setup();
      const events = replyEvents(5, 'error');
      await appendAll(log, replyId, events);
      const read = await collect(log.read(replyId, 0));
      assert.deepEqual(read, events);
      assert.ok(read.at(-1) && isTerminalEvent(read.at(-1) as ReplyEvent));
      assert.equal((await log.meta(replyId))?.state, 'ended');
    });

    test('appends after the terminal are refused and change nothing', async () => {
      const { log, replyId } = await setup();
      const events = replyEvents(5);
      await appendAll(log, replyId, events);
      await assert.rejects(log.append(replyId, { id: 6, type: 'delta', data: { text: 'late' } }), assertRefused('ended'));
      await assert.rejects(log.append(replyId, { id: 6, type: 'done', data: { finishReason: 'stop' } }), assertRefused('ended'));
      assert.deepEqual(await collect(log.read(replyId, 0)), events);
    });

    test('ids must run 1, 2, 3 … without a gap or a repeat', async () => {
      const { log, replyId } = await setup();
      const [start, reasoning] = replyEvents(5);
      assert.ok(start && reasoning);
      await assert.rejects(log.append(replyId, reasoning), assertRefused('out_of_order'), 'the first id is 1');
      await log.append(replyId, start);
      await assert.rejects(log.append(replyId, start), assertRefused('out_of_order'), 'a repeat');
      await assert.rejects(log.append(replyId, { ...reasoning, id: 3 }), assertRefused('out_of_order'), 'a gap');
      await log.append(replyId, reasoning);
      assert.equal((await log.meta(replyId))?.lastEventId, 2);
    });

    test('a reply id is created once', async () => {
      const { log, replyId } = await setup();
      await assert.rejects(log.create(replyId, { userId: 'intruder', conversationId: 'c9' }), assertRefused('exists'));
      assert.equal((await log.meta(replyId))?.userId, 'u1');
    });

    test('appends issued without awaiting each other are applied in call order', async () => {
      const { log, replyId } = await setup();
      const events = replyEvents(200);
      await Promise.all(events.map((event) => log.append(replyId, event)));
      assert.deepEqual(await collect(log.read(replyId, 0)), events);
    });

    test('an unknown reply has no meta, and reading or appending it is refused as not found', async () => {
      const { log } = await setup();
      assert.equal(await log.meta('no-such-reply'), undefined);
      await assert.rejects(collect(log.read('no-such-reply', 0)), isNotFound);
      await assert.rejects(log.append('no-such-reply', { id: 1, type: 'delta', data: { text: 'x' } }), isNotFound);
    });

    test('reading is lazy: nothing is looked up until the first event is asked for', async () => {
      const { log } = await setup();
      const iterable = log.read('no-such-reply', 0);
      await assert.rejects(iterable[Symbol.asyncIterator]().next(), isNotFound);
    });

    test('a negative or fractional afterId is refused as a programming error', async () => {
      const { log, replyId } = await setup();
      assert.throws(() => log.read(replyId, -1), RangeError);
      assert.throws(() => log.read(replyId, 1.5), RangeError);
    });

    test('aborting a waiting reader finishes it without an error and leaves nothing listening; the reply goes on', async () => {
      const { subject, log, replyId } = await setup();
      const events = replyEvents(6);
      await log.append(replyId, events[0] as ReplyEvent);
      const controller = new AbortController();
      const iterator = log.read(replyId, 0, { signal: controller.signal })[Symbol.asyncIterator]();
      assert.deepEqual(await iterator.next(), { done: false, value: events[0] });
      const waiting = iterator.next();
      await until(followerCount(subject, 1), 'the reader waits for the next event');
      controller.abort();
      assert.deepEqual(await waiting, { done: true, value: undefined });
      assert.equal(await subject.followers(), 0);
      await appendAll(log, replyId, events.slice(1));
      assert.deepEqual(await collect(log.read(replyId, 0)), events, 'another reader still gets the whole reply');
    });

    test('breaking out of a live read leaves nothing listening', async () => {
      const { subject, log, replyId } = await setup();
      const events = replyEvents(6);
      await log.append(replyId, events[0] as ReplyEvent);
      const reading = (async () => {
        for await (const event of log.read(replyId, 0)) if (event.id === 2) return event;
        return undefined;
      })();
      await until(followerCount(subject, 1), 'the reader follows live');
      await log.append(replyId, events[1] as ReplyEvent);
      assert.deepEqual(await reading, events[1]);
      assert.equal(await subject.followers(), 0);
    });

    test('a signal aborted before reading yields nothing', async () => {
      const { log, replyId } = await setup();
      await appendAll(log, replyId, replyEvents(5));
      assert.deepEqual(await collect(log.read(replyId, 0, { signal: AbortSignal.abort() })), []);
    });

    test('the cap refuses further non-terminal events but still takes the terminal, so the reply can end', async () => {
      const { log, replyId } = await setup({ maxEvents: 5 });
      const events = replyEvents(8);
      await appendAll(log, replyId, events.slice(0, 5));
      await assert.rejects(log.append(replyId, events[5] as ReplyEvent), assertRefused('full'));
      const terminal: ReplyEvent = { id: 6, type: 'error', data: { code: 'upstream_error', message: 'reply too long', retryable: false } };
      await log.append(replyId, terminal);
      assert.deepEqual(await collect(log.read(replyId, 0)), [...events.slice(0, 5), terminal]);
    });

    test('an ended log is kept for the retention after its end, then it is gone', async () => {
      const { subject, log, replyId } = await setup({ retentionMs: settings.shortRetentionMs });
      const events = replyEvents(5);
      await appendAll(log, replyId, events);
      const endedAt = subject.now();
      const meta = await log.meta(replyId);
      // Redis reports the time left (PTTL) on its own clock, so its expiry may read a millisecond or two late.
      assert.ok(
        meta && meta.expiresAt > endedAt && meta.expiresAt <= endedAt + settings.shortRetentionMs + settings.expiryMarginMs,
        `expiresAt ${meta?.expiresAt}, ended at ${endedAt}`,
      );
      assert.deepEqual(await collect(log.read(replyId, 2)), events.slice(2));
      await subject.elapse(settings.shortRetentionMs + settings.expiryMarginMs);
      assert.equal(await log.meta(replyId), undefined);
      await assert.rejects(collect(log.read(replyId, 0)), isNotFound);
      await assert.rejects(log.append(replyId, { id: 6, type: 'delta', data: { text: 'x' } }), isNotFound);
    });

    test('a live log nobody appends to expires, and its followers finish without a terminal', async () => {
      const { subject, log, replyId } = await setup({ retentionMs: settings.shortRetentionMs });
      const events = replyEvents(5);
      await appendAll(log, replyId, events.slice(0, 2));
      const reading = collect(log.read(replyId, 0));
      await until(followerCount(subject, 1), 'the reader follows live');
      await subject.elapse(settings.shortRetentionMs + settings.expiryMarginMs);
      assert.deepEqual(await reading, events.slice(0, 2));
      assert.equal(await log.meta(replyId), undefined);
      assert.equal(await subject.followers(), 0);
    });

    test('a live log whose producer is alive is never ended as abandoned, however long it stays silent', async () => {
      const { subject, log, replyId } = await setup();
      const events = replyEvents(6);
      await appendAll(log, replyId, events.slice(0, 2));
      await subject.elapse(settings.producerLeaseTtlMs * 2);
      assert.equal(await log.endIfProducerGone(replyId, PRODUCER_GONE), undefined);
      assert.equal((await log.meta(replyId))?.state, 'live');
      await appendAll(log, replyId, events.slice(2));
      assert.deepEqual(await collect(log.read(replyId, 0)), events, 'the producer ends its reply itself');
    });

    test('an ended or unknown log is never ended again as abandoned', async () => {
      const { log, replyId } = await setup();
      const events = replyEvents(5);
      await appendAll(log, replyId, events);
      assert.equal(await log.endIfProducerGone(replyId, PRODUCER_GONE), undefined);
      assert.equal(await log.endIfProducerGone('no-such-reply', PRODUCER_GONE), undefined);
      assert.deepEqual(await collect(log.read(replyId, 0)), events);
    });

    test('a 10,000-event reply replays byte-for-byte, from the start and from the middle', async () => {
      const { log, replyId } = await setup();
      const events = replyEvents(10_000);
      // As a producer that does not wait for each write: the log keeps call order.
      await Promise.all(events.map((event) => log.append(replyId, event)));
      const frames = (list: readonly ReplyEvent[]) => list.map(formatSseEvent).join('');
      const whole = await collect(log.read(replyId, 0));
      assert.equal(whole.length, 10_000);
      assert.equal(frames(whole), frames(events));
      assert.equal(frames(await collect(log.read(replyId, 5000))), frames(events.slice(5000)));
    });
  });
}
