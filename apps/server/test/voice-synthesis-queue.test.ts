import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { SynthesisCache, synthesisCacheKey } from '../src/voice/synthesis-cache.ts';
import { SynthesisQueue, type SynthesisOutcome } from '../src/voice/synthesis-queue.ts';
import type { SynthesizedAudio, TtsProvider } from '../src/voice/tts-provider.ts';
import { TtsError } from '../src/voice/voice-errors.ts';
import { createManualClock, type ManualClock } from './support/manual-clock.ts';

interface Step {
  readonly latencyMs: number;
  readonly error?: unknown;
}

interface Call {
  readonly text: string;
  readonly voice: string;
  readonly attempt: number;
  readonly signal: AbortSignal | undefined;
  finishedAt?: number;
}

/**
 * A provider whose syntheses take simulated time on a manual clock: `plan(text, attempt)` says how
 * long each attempt takes and whether it fails.
 */
function fakeProvider(clock: ManualClock, plan: (text: string, attempt: number) => Step) {
  const calls: Call[] = [];
  const attempts = new Map<string, number>();
  const provider: TtsProvider = {
    id: 'fake',
    defaultVoice: 'plain',
    synthesize({ text, voice, signal }) {
      const attempt = (attempts.get(text) ?? 0) + 1;
      attempts.set(text, attempt);
      const call: Call = { text, voice, attempt, signal };
      calls.push(call);
      const step = plan(text, attempt);
      return new Promise<SynthesizedAudio>((resolve, reject) => {
        const timer = clock.setTimeout(() => {
          call.finishedAt = clock.now();
          if (step.error !== undefined) reject(step.error);
          else resolve({ audio: Buffer.from(`${voice}:${text}`), format: 'mp3', durationMs: step.latencyMs });
        }, step.latencyMs);
        signal?.addEventListener('abort', () => {
          clock.clearTimeout(timer);
          reject(signal.reason);
        });
      });
    },
  };
  return { provider, calls };
}

/** Moves the clock forward and lets the promise callbacks it set off run. */
async function advance(clock: ManualClock, ms: number): Promise<void> {
  clock.advance(ms);
  for (let i = 0; i < 5; i++) await tick();
}

/** Collects outcomes as a consumer would, noting the clock time each arrived at. */
function consume(queue: SynthesisQueue, clock: ManualClock) {
  const received: { outcome: SynthesisOutcome; at: number }[] = [];
  const done = (async () => {
    for await (const outcome of queue) received.push({ outcome, at: clock.now() });
  })();
  return { received, done };
}

function addAll(queue: SynthesisQueue, texts: readonly string[]): void {
  texts.forEach((text, index) => queue.add({ index, text }));
}

const retryable = (message: string) => new TtsError('tts_failed', message, { retryable: true });

describe('synthesis queue order and look-ahead', () => {
  test('results are delivered strictly in index order when later segments finish first', async () => {
    const clock = createManualClock();
    const latency: Record<string, number> = { zero: 300, one: 100, two: 200 };
    const { provider, calls } = fakeProvider(clock, (text) => ({ latencyMs: latency[text] ?? 0 }));
    const queue = new SynthesisQueue({ provider, concurrency: 3 });
    const { received, done } = consume(queue, clock);
    addAll(queue, ['zero', 'one', 'two']);
    queue.end();

    await advance(clock, 100);
    await advance(clock, 100);
    assert.equal(received.length, 0, 'nothing is delivered while segment 0 is still being synthesized');
    await advance(clock, 100);
    await done;

    assert.deepEqual(
      calls.map((call) => [call.text, call.finishedAt]),
      [
        ['zero', 300],
        ['one', 100],
        ['two', 200],
      ],
    );
    assert.deepEqual(
      received.map(({ outcome, at }) => [outcome.index, outcome.skipped ? 'skipped' : outcome.audio.audio.toString(), at]),
      [
        [0, 'plain:zero', 300],
        [1, 'plain:one', 300],
        [2, 'plain:two', 300],
      ],
    );
  });

  test('no more than `concurrency` segments run ahead of what the consumer has taken', async () => {
    const clock = createManualClock();
    const { provider, calls } = fakeProvider(clock, () => ({ latencyMs: 100 }));
    const queue = new SynthesisQueue({ provider, concurrency: 2 });
    addAll(queue, ['a', 'b', 'c', 'd', 'e']);
    queue.end();
    assert.equal(calls.length, 2);
    assert.equal(queue.inFlight, 2);

    await advance(clock, 500);
    assert.equal(calls.length, 2, 'finished results waiting for the consumer hold the window');
    assert.equal(queue.inFlight, 0);

    assert.equal((await queue.next())?.index, 0);
    assert.equal(calls.length, 3);
    assert.equal((await queue.next())?.index, 1);
    assert.equal(calls.length, 4);
    await advance(clock, 100);
    const rest = consume(queue, clock);
    await advance(clock, 100);
    await rest.done;
    assert.deepEqual(
      rest.received.map(({ outcome }) => outcome.index),
      [2, 3, 4],
    );
    assert.equal(await queue.next(), undefined);
  });

  test('segments added while others are running are picked up, and the queue ends only after end()', async () => {
    const clock = createManualClock();
    const { provider } = fakeProvider(clock, () => ({ latencyMs: 50 }));
    const queue = new SynthesisQueue({ provider, concurrency: 2 });
    const { received, done } = consume(queue, clock);
    queue.add({ index: 0, text: 'first' });
    await advance(clock, 50);
    assert.equal(received.length, 1);
    queue.add({ index: 1, text: 'second' });
    await advance(clock, 50);
    assert.equal(received.length, 2);
    let finished = false;
    void done.then(() => (finished = true));
    await tick();
    assert.equal(finished, false);
    queue.end();
    await done;
    assert.throws(() => queue.add({ index: 2, text: 'late' }), /add after end/);
  });

  test('segments must arrive as 0, 1, 2 …', () => {
    const { provider } = fakeProvider(createManualClock(), () => ({ latencyMs: 1 }));
    const queue = new SynthesisQueue({ provider, concurrency: 1 });
    assert.throws(() => queue.add({ index: 1, text: 'skipped zero' }), RangeError);
    assert.throws(() => new SynthesisQueue({ provider, concurrency: 0 }), RangeError);
  });
});

describe('synthesis queue failures', () => {
  test('a retryable failure is retried once and then succeeds', async () => {
    const clock = createManualClock();
    const { provider, calls } = fakeProvider(clock, (text, attempt) => (text === 'flaky' && attempt === 1 ? { latencyMs: 10, error: retryable('blip') } : { latencyMs: 10 }));
    const failures: number[] = [];
    const queue = new SynthesisQueue({ provider, concurrency: 2, onAttemptFailed: (_segment, _error, attempt) => failures.push(attempt) });
    const { received, done } = consume(queue, clock);
    addAll(queue, ['flaky', 'fine']);
    queue.end();
    await advance(clock, 10);
    await advance(clock, 10);
    await done;
    const first = received[0]?.outcome;
    assert.ok(first !== undefined && !first.skipped);
    assert.equal(first.attempts, 2);
    assert.deepEqual(failures, [1]);
    assert.deepEqual(
      calls.map((call) => `${call.text}#${call.attempt}`),
      ['flaky#1', 'fine#1', 'flaky#2'],
    );
  });

  test('a segment that fails twice is skipped with its code and the ones after it still play', async () => {
    const clock = createManualClock();
    const { provider, calls } = fakeProvider(clock, (text) => (text === 'broken' ? { latencyMs: 10, error: retryable('provider down') } : { latencyMs: 10 }));
    const queue = new SynthesisQueue({ provider, concurrency: 2 });
    const { received, done } = consume(queue, clock);
    addAll(queue, ['before', 'broken', 'after']);
    queue.end();
    for (let i = 0; i < 4; i++) await advance(clock, 10);
    await done;
    assert.deepEqual(
      received.map(({ outcome }) => (outcome.skipped ? [outcome.index, outcome.code, outcome.message, outcome.attempts] : [outcome.index, 'audio', outcome.attempts])),
      [
        [0, 'audio', 1],
        [1, 'tts_failed', 'provider down', 2],
        [2, 'audio', 1],
      ],
    );
    assert.equal(calls.filter((call) => call.text === 'broken').length, 2);
  });

  test('a non-retryable failure is skipped without a second attempt; an unknown error is retried', async () => {
    const clock = createManualClock();
    const { provider, calls } = fakeProvider(clock, (text) =>
      text === 'refused'
        ? { latencyMs: 5, error: new TtsError('tts_failed', 'text too long', { retryable: false }) }
        : { latencyMs: 5, error: new TypeError('bug in provider') },
    );
    const queue = new SynthesisQueue({ provider, concurrency: 2 });
    const { received, done } = consume(queue, clock);
    addAll(queue, ['refused', 'buggy']);
    queue.end();
    for (let i = 0; i < 3; i++) await advance(clock, 5);
    await done;
    assert.deepEqual(
      received.map(({ outcome }) => (outcome.skipped ? [outcome.code, outcome.attempts] : 'audio')),
      [
        ['tts_failed', 1],
        ['tts_failed', 2],
      ],
    );
    assert.equal(calls.length, 3);
  });

  test('after tts_unavailable the remaining segments are skipped without calling the provider', async () => {
    const clock = createManualClock();
    const { provider, calls } = fakeProvider(clock, () => ({ latencyMs: 5, error: new TtsError('tts_unavailable', 'espeak-ng not found on PATH') }));
    const queue = new SynthesisQueue({ provider, concurrency: 1 });
    const { received, done } = consume(queue, clock);
    addAll(queue, ['a', 'b', 'c']);
    queue.end();
    await advance(clock, 5);
    await done;
    assert.deepEqual(
      received.map(({ outcome }) => (outcome.skipped ? [outcome.index, outcome.code, outcome.attempts] : 'audio')),
      [
        [0, 'tts_unavailable', 1],
        [1, 'tts_unavailable', 0],
        [2, 'tts_unavailable', 0],
      ],
    );
    assert.equal(calls.length, 1);
  });
});

describe('synthesis queue cancellation', () => {
  test('cancel aborts every synthesis in flight, ends delivery and ignores late results', async () => {
    const clock = createManualClock();
    const { provider, calls } = fakeProvider(clock, () => ({ latencyMs: 1000 }));
    const queue = new SynthesisQueue({ provider, concurrency: 3 });
    const { received, done } = consume(queue, clock);
    addAll(queue, ['a', 'b', 'c', 'd']);
    await advance(clock, 10);
    assert.equal(calls.length, 3);
    const reason = new Error('user pressed stop');
    queue.cancel(reason);
    await done;
    assert.equal(received.length, 0);
    assert.deepEqual(
      calls.map((call) => [call.signal?.aborted, call.signal?.reason]),
      [
        [true, reason],
        [true, reason],
        [true, reason],
      ],
    );
    assert.equal(clock.pendingTimers, 0, 'the fake provider stopped its work');
    queue.add({ index: 4, text: 'e' });
    assert.equal(calls.length, 3, 'nothing starts after cancel');
    assert.equal(await queue.next(), undefined);
    assert.equal(queue.cancelled, true);
  });

  test('the reply’s stop signal cancels the queue', async () => {
    const clock = createManualClock();
    const { provider, calls } = fakeProvider(clock, () => ({ latencyMs: 1000 }));
    const stop = new AbortController();
    const queue = new SynthesisQueue({ provider, concurrency: 2, signal: stop.signal });
    addAll(queue, ['a', 'b']);
    const pending = queue.next();
    stop.abort(new Error('stopped'));
    assert.equal(await pending, undefined);
    assert.ok(calls.every((call) => call.signal?.aborted === true));
    const already = new SynthesisQueue({ provider, concurrency: 1, signal: stop.signal });
    already.add({ index: 0, text: 'never' });
    assert.equal(calls.length, 2);
    assert.equal(await already.next(), undefined);
  });
});

describe('synthesis cache', () => {
  test('a segment synthesized before is answered from the cache for the same provider, voice and text only', async () => {
    const clock = createManualClock();
    const { provider, calls } = fakeProvider(clock, () => ({ latencyMs: 10 }));
    const cache = new SynthesisCache({ maxEntries: 10, maxBytes: 10_000 });

    const first = new SynthesisQueue({ provider, concurrency: 2, cache });
    addAll(first, ['好的。', '我们开始吧。']);
    first.end();
    const firstRun = consume(first, clock);
    await advance(clock, 10);
    await firstRun.done;
    assert.equal(calls.length, 2);

    const second = new SynthesisQueue({ provider, concurrency: 2, cache });
    addAll(second, ['好的。', '新的一句。']);
    second.end();
    const secondRun = consume(second, clock);
    await advance(clock, 10);
    await secondRun.done;
    assert.deepEqual(
      secondRun.received.map(({ outcome }) => (outcome.skipped ? 'skipped' : [outcome.audio.audio.toString(), outcome.cached, outcome.attempts])),
      [
        ['plain:好的。', true, 0],
        ['plain:新的一句。', false, 1],
      ],
    );
    assert.equal(calls.length, 3);

    const otherVoice = new SynthesisQueue({ provider, voice: 'bright', concurrency: 1, cache });
    otherVoice.add({ index: 0, text: '好的。' });
    otherVoice.end();
    const otherRun = consume(otherVoice, clock);
    await advance(clock, 10);
    await otherRun.done;
    assert.equal(calls.length, 4);
    assert.equal(calls.at(-1)?.voice, 'bright');
  });

  test('the cache evicts the least recently used entries past its entry and byte bounds', () => {
    const audio = (bytes: number): SynthesizedAudio => ({ audio: Buffer.alloc(bytes), format: 'mp3' });
    const byEntries = new SynthesisCache({ maxEntries: 2, maxBytes: 1000 });
    byEntries.set('a', audio(1));
    byEntries.set('b', audio(1));
    assert.ok(byEntries.get('a') !== undefined);
    byEntries.set('c', audio(1));
    assert.deepEqual(['a', 'b', 'c'].map((key) => byEntries.get(key) !== undefined), [true, false, true]);

    const byBytes = new SynthesisCache({ maxEntries: 10, maxBytes: 100 });
    byBytes.set('a', audio(60));
    byBytes.set('b', audio(30));
    byBytes.set('c', audio(30));
    assert.deepEqual([byBytes.get('a'), byBytes.get('b') !== undefined, byBytes.get('c') !== undefined], [undefined, true, true]);
    assert.equal(byBytes.bytes, 60);
    byBytes.set('huge', audio(101));
    assert.equal(byBytes.get('huge'), undefined);
    byBytes.set('b', audio(10));
    assert.equal(byBytes.bytes, 40);

    assert.notEqual(synthesisCacheKey('p', 'v', 'x'), synthesisCacheKey('p', 'vx', ''));
  });
});
