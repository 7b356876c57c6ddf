/**
 * The early stop of a named request, by itself: the model call a stop interrupts is closed in the very
 * step the stop is taken (an event, not a race against a timer), and the phases get an empty stream.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WxstreamError } from '@wxstream/protocol';
import { EarlyStop, requestStopId, stoppableUpstream } from '../src/chat/named-request.ts';
import { ReplyStopped } from '../src/chat/relay.ts';
import type { UpstreamModel, UpstreamStream } from '../src/upstream/upstream-model.ts';

/** A provider that never answers, and shows the signal of each call. */
function silentProvider(): { upstream: UpstreamModel; signals: AbortSignal[] } {
  const signals: AbortSignal[] = [];
  return {
    signals,
    upstream: {
      model: 'm',
      failure: () => new WxstreamError('upstream_error', 'x'),
      complete: () => Promise.reject(new Error('not used')),
      open: ({ signal }) => {
        signals.push(signal);
        return new Promise<UpstreamStream>(() => {});
      },
    },
  };
}

async function drain(stream: UpstreamStream): Promise<number> {
  let chunks = 0;
  for await (const _ of stream) chunks += 1;
  return chunks;
}

test('a stop while the model has not answered closes its call at once and gives an empty stream', async () => {
  const { upstream, signals } = silentProvider();
  const early = new EarlyStop();
  const run = new AbortController();
  const opened = stoppableUpstream(upstream, early).open({ messages: [], signal: run.signal });
  assert.equal(signals.length, 1);
  assert.equal(signals[0]?.aborted, false);
  early.request();
  assert.equal(signals[0]?.aborted, true, 'closed in the same step as the stop');
  assert.ok(signals[0]?.reason instanceof ReplyStopped);
  assert.equal(run.signal.aborted, false, "the reply's run goes on, so its turn is stored and it ends stopped");
  assert.equal(await drain(await opened), 0);
});

test('a stop asked for before the call skips the model entirely', async () => {
  const { upstream, signals } = silentProvider();
  const early = new EarlyStop();
  early.request();
  const stream = await stoppableUpstream(upstream, early).open({ messages: [], signal: new AbortController().signal });
  assert.equal(signals.length, 0);
  assert.equal(await drain(stream), 0);
});

test("the run's own abort still reaches the model call", async () => {
  const { upstream, signals } = silentProvider();
  const run = new AbortController();
  void stoppableUpstream(upstream, new EarlyStop()).open({ messages: [], signal: run.signal });
  run.abort(new Error('shutdown'));
  assert.equal(signals[0]?.aborted, true);
  assert.equal((signals[0]?.reason as Error).message, 'shutdown');
});

test('a request is stoppable under an id no message id can take', () => {
  assert.equal(requestStopId('abc12345'), 'request:abc12345');
});
