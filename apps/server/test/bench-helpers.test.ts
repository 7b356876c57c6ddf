import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatSseEvent, type ReplyEvent } from '@wxstream/protocol';
import { ascending, percentile } from '../bench/percentile.ts';
import { readUnlabelledSample } from '../bench/prometheus-gauge.ts';
import { SseFrameSplitter } from '../bench/sse-frames.ts';

describe('benchmark percentiles', () => {
  test('a percentile is always a measured sample, chosen by nearest rank', () => {
    const samples = ascending(Array.from({ length: 100 }, (_, index) => 100 - index));
    assert.equal(percentile(samples, 50), 50);
    assert.equal(percentile(samples, 99), 99);
    assert.equal(percentile(samples, 100), 100);
    assert.equal(percentile(samples, 0), 1);
    assert.equal(percentile([1, 2], 50), 1);
    assert.equal(percentile([7], 99), 7);
  });

  test('no samples give NaN rather than a figure nobody measured', () => {
    assert.ok(Number.isNaN(percentile([], 50)));
  });

  test('samples are sorted as numbers, not as strings, and the input is left alone', () => {
    const samples = [10, 9, 100, 1];
    assert.deepEqual(ascending(samples), [1, 9, 10, 100]);
    assert.deepEqual(samples, [10, 9, 100, 1]);
  });
});

describe('benchmark SSE frame splitter', () => {
  const events: ReplyEvent[] = [
    { id: 1, type: 'start', data: { messageId: 'm1', conversationId: 'c1', model: 'bench-model' } },
    { id: 2, type: 'delta', data: { text: '你好\n"world"' } },
    { id: 3, type: 'done', data: { finishReason: 'stop' } },
  ];
  const wire = `${formatSseEvent(events[0]!)}: ping\n\n${formatSseEvent(events[1]!)}${formatSseEvent(events[2]!)}`;

  test('frames split across any two feeds come out whole, in order, without heartbeats', () => {
    for (let cut = 0; cut <= wire.length; cut += 1) {
      const splitter = new SseFrameSplitter();
      const frames = [...splitter.feed(wire.slice(0, cut)), ...splitter.feed(wire.slice(cut))];
      assert.deepEqual(
        frames.map((frame) => [frame.id, frame.event]),
        [
          [1, 'start'],
          [2, 'delta'],
          [3, 'done'],
        ],
        `cut at ${cut}`,
      );
      assert.deepEqual(JSON.parse(frames[1]!.data), { text: '你好\n"world"' });
    }
  });

  test('an unfinished frame is held back until its blank line arrives', () => {
    const splitter = new SseFrameSplitter();
    assert.deepEqual(splitter.feed('id: 4\nevent: delta\ndata: {"text":"a"}\n'), []);
    assert.deepEqual(splitter.feed('\n'), [{ id: 4, event: 'delta', data: '{"text":"a"}' }]);
  });
});

describe('benchmark metrics reader', () => {
  const exposition = [
    '# HELP wxstream_replies_in_progress Replies started and not yet ended.',
    '# TYPE wxstream_replies_in_progress gauge',
    'wxstream_replies_in_progress_extra 5',
    'wxstream_replies_total{outcome="done"} 12',
    'wxstream_replies_in_progress 1000',
  ].join('\n');

  test('an unlabelled sample is read by its exact name, not by a longer name sharing its prefix', () => {
    assert.equal(readUnlabelledSample(exposition, 'wxstream_replies_in_progress'), 1000);
  });

  test('a series that is absent or only labelled reads as undefined', () => {
    assert.equal(readUnlabelledSample(exposition, 'wxstream_replies_total'), undefined);
    assert.equal(readUnlabelledSample(exposition, 'wxstream_missing'), undefined);
  });
});
