import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ReplyEvent } from '@wxstream/protocol';
import { failReply, initialReplyState, reduceReply, stopReply, type ReplyState } from '../src/reply-reducer.ts';
import { createSeededRandom, testSeed } from './support/seeded-random.ts';

const start: ReplyEvent = { id: 1, type: 'start', data: { conversationId: 'c1', messageId: 'm1', model: 'deepseek-reasoner' } };

function fold(events: readonly ReplyEvent[], state: ReplyState = initialReplyState()): ReplyState {
  return events.reduce(reduceReply, state);
}

test('a full reply folds into text, reasoning, metadata, usage and a done status', () => {
  const state = fold([
    start,
    { id: 2, type: 'reasoning', data: { text: '先想' } },
    { id: 3, type: 'reasoning', data: { text: '一下。' } },
    { id: 4, type: 'delta', data: { text: '你好，' } },
    { id: 5, type: 'delta', data: { text: '世界！' } },
    { id: 6, type: 'usage', data: { promptTokens: 12, completionTokens: 34 } },
    { id: 7, type: 'done', data: { finishReason: 'stop' } },
  ]);
  assert.deepEqual(state, {
    text: '你好，世界！',
    reasoning: '先想一下。',
    status: 'done',
    finishReason: 'stop',
    usage: { promptTokens: 12, completionTokens: 34 },
    conversationId: 'c1',
    messageId: 'm1',
    model: 'deepseek-reasoner',
    lastEventId: 7,
    audio: [],
  });
});

test('the initial state is streaming with nothing received', () => {
  assert.deepEqual(initialReplyState(), { text: '', reasoning: '', status: 'streaming', lastEventId: 0, audio: [] });
  assert.notEqual(initialReplyState(), initialReplyState(), 'each reply gets its own state object');
});

test('a replayed or duplicated event never repeats text', () => {
  const once = fold([start, { id: 2, type: 'delta', data: { text: '一' } }, { id: 3, type: 'delta', data: { text: '二' } }]);
  const replayed = fold(
    [
      { id: 2, type: 'delta', data: { text: '一' } },
      { id: 3, type: 'delta', data: { text: '二' } },
      { id: 3, type: 'delta', data: { text: '二' } },
      { id: 1, type: 'start', data: { conversationId: 'other', messageId: 'other', model: 'other' } },
    ],
    once,
  );
  assert.equal(replayed, once, 'old ids leave the very same state object');
  assert.equal(replayed.text, '一二');
  assert.equal(replayed.conversationId, 'c1');
});

test('random duplication and reordering of old events gives the same state as the clean sequence', () => {
  const random = createSeededRandom(testSeed(0x4ed0));
  const clean: ReplyEvent[] = [start];
  for (let id = 2; id <= 60; id++) clean.push({ id, type: 'delta', data: { text: `${id},` } });
  clean.push({ id: 61, type: 'done', data: { finishReason: 'length' } });
  const expected = fold(clean);
  for (let round = 0; round < 50; round++) {
    const noisy: ReplyEvent[] = [];
    for (const event of clean) {
      noisy.push(event);
      // Re-deliver a few already delivered events, as a reconnect replay would.
      while (random.chance(0.3)) noisy.push(clean[random.int(clean.indexOf(event) + 1)] as ReplyEvent);
    }
    assert.deepEqual(fold(noisy), expected, `seed ${random.seed} round ${round}`);
  }
});

test('usage takes the last report instead of summing', () => {
  const state = fold([
    start,
    { id: 2, type: 'usage', data: { promptTokens: 10, completionTokens: 5 } },
    { id: 3, type: 'usage', data: { promptTokens: 10, completionTokens: 9 } },
  ]);
  assert.deepEqual(state.usage, { promptTokens: 10, completionTokens: 9 });
});

test('nothing changes after a terminal event', () => {
  const done = fold([start, { id: 2, type: 'delta', data: { text: '完' } }, { id: 3, type: 'done', data: { finishReason: 'stop' } }]);
  const after = fold(
    [
      { id: 4, type: 'delta', data: { text: '多余' } },
      { id: 5, type: 'error', data: { code: 'upstream_error', message: 'late', retryable: true } },
    ],
    done,
  );
  assert.equal(after, done);
  assert.equal(stopReply(done), done);
  assert.equal(failReply(done, { code: 'network_error', message: 'x', retryable: true }), done);
});

test('an error event ends the reply and keeps the partial text', () => {
  const state = fold([
    start,
    { id: 2, type: 'delta', data: { text: '一半' } },
    { id: 3, type: 'error', data: { code: 'upstream_timeout', message: 'no tokens for 30 s', retryable: true } },
  ]);
  assert.equal(state.status, 'error');
  assert.equal(state.text, '一半');
  assert.deepEqual(state.error, { code: 'upstream_timeout', message: 'no tokens for 30 s', retryable: true });
});

test('stopReply keeps the partial text and marks the reply stopped', () => {
  const streaming = fold([start, { id: 2, type: 'delta', data: { text: '说到一半' } }]);
  const stopped = stopReply(streaming);
  assert.equal(stopped.status, 'stopped');
  assert.equal(stopped.finishReason, 'stopped');
  assert.equal(stopped.text, '说到一半');
  assert.equal(streaming.status, 'streaming', 'the input state is not mutated');
  assert.equal(reduceReply(stopped, { id: 3, type: 'delta', data: { text: '迟到' } }), stopped);
});

test('failReply records a client-side error and keeps the partial text', () => {
  const streaming = fold([start, { id: 2, type: 'delta', data: { text: '断' } }]);
  const failed = failReply(streaming, { code: 'stream_interrupted', message: 'closed early', retryable: true });
  assert.equal(failed.status, 'error');
  assert.equal(failed.text, '断');
  assert.deepEqual(failed.error, { code: 'stream_interrupted', message: 'closed early', retryable: true });
  assert.equal(stopReply(failed), failed);
});

test('reduceReply never mutates the state it is given', () => {
  const state = Object.freeze(fold([start]));
  const next = reduceReply(state, { id: 2, type: 'delta', data: { text: 'x' } });
  assert.equal(state.text, '');
  assert.equal(next.text, 'x');
});

test('audio segments are kept in index order, and a replayed or misplaced segment is not kept twice', () => {
  const voiced: ReplyEvent = { id: 1, type: 'start', data: { conversationId: 'c1', messageId: 'm1', model: 'm', voice: true } };
  const first: ReplyEvent = { id: 3, type: 'audio', data: { index: 0, url: '/api/audio/a?exp=1&sig=s', text: '你好。', format: 'mp3' } };
  const skipped: ReplyEvent = { id: 5, type: 'audio', data: { index: 1, skipped: true, code: 'tts_failed' } };
  const state = fold([
    voiced,
    { id: 2, type: 'delta', data: { text: '你好。' } },
    first,
    first,
    { id: 4, type: 'audio', data: { index: 5, url: '/api/audio/z?exp=1&sig=s', text: '?', format: 'mp3' } },
    skipped,
    { id: 6, type: 'done', data: { finishReason: 'stop' } },
  ]);
  assert.equal(state.voice, true);
  assert.deepEqual(state.audio, [first.data, skipped.data]);
  assert.equal(state.lastEventId, 6);
  assert.equal(state.status, 'done');
});

test('a suggestions event keeps its questions for the UI; a replayed one changes nothing', () => {
  const suggestions: ReplyEvent = { id: 3, type: 'suggestions', data: { items: ['再举个例子？', '有什么风险？'] } };
  const state = fold([start, { id: 2, type: 'delta', data: { text: '好' } }, suggestions, { id: 4, type: 'done', data: { finishReason: 'stop' } }]);
  assert.deepEqual(state.suggestions, ['再举个例子？', '有什么风险？']);
  assert.equal(state.status, 'done');
  assert.equal(state.text, '好');
  const before = fold([start, suggestions]);
  assert.equal(reduceReply(before, suggestions), before, 'a replayed event is ignored');
});
