import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setImmediate as tick } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { Router } from '@koa/router';
import Koa from 'koa';
import { systemClock } from '../src/clock.ts';
import { audioRoute } from '../src/voice/audio-route.ts';
import { AudioStore } from '../src/voice/audio-store.ts';
import { createEspeakTts, ESPEAK_PROGRAM, findProgram, LAME_PROGRAM } from '../src/voice/espeak-tts.ts';
import { AUDIO_ROUTE, createAudioUrlSigner } from '../src/voice/signed-audio-url.ts';
import type { SynthesizedAudio, TtsProvider } from '../src/voice/tts-provider.ts';
import { TtsError } from '../src/voice/voice-errors.ts';
import { VoiceReply, type VoiceReplyOptions, type VoiceSegmentResult } from '../src/voice/voice-reply.ts';
import { createManualClock, type ManualClock } from './support/manual-clock.ts';

const SECRET = 'voice-reply-test-secret-0123456789abcdef';

/** Synthesizes instantly (on the next tick) unless the text is in `failing`; records every call. */
function instantProvider(failing: ReadonlySet<string> = new Set()) {
  const calls: { text: string; signal: AbortSignal | undefined }[] = [];
  const provider: TtsProvider = {
    id: 'instant',
    defaultVoice: 'v',
    async synthesize({ text, signal }): Promise<SynthesizedAudio> {
      calls.push({ text, signal });
      await tick();
      if (failing.has(text)) throw new TtsError('tts_failed', 'cannot say that', { retryable: false });
      return { audio: Buffer.from(text), format: 'mp3', durationMs: text.length * 100 };
    },
  };
  return { provider, calls };
}

function setup(clock: ManualClock, provider: TtsProvider, overrides: Partial<VoiceReplyOptions> = {}) {
  const store = new AudioStore({ ttlMs: 60_000, maxBytes: 1_000_000, clock });
  const signer = createAudioUrlSigner({ secret: SECRET, clock });
  const reply = new VoiceReply({ provider, concurrency: 2, store, signer, clock, stallFlushMs: 800, ...overrides });
  return { reply, store, signer };
}

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await tick();
}

async function collect(reply: VoiceReply): Promise<VoiceSegmentResult[]> {
  const results: VoiceSegmentResult[] = [];
  for await (const result of reply) results.push(result);
  return results;
}

describe('voice reply', () => {
  test('the first sentence is synthesized as soon as it is complete, long before the reply ends', async () => {
    const clock = createManualClock();
    const { provider, calls } = instantProvider();
    const { reply } = setup(clock, provider);
    reply.push('你好，很高兴见到你！我');
    assert.deepEqual(
      calls.map((call) => call.text),
      ['你好，很高兴见到你！'],
    );
    reply.push('是你的语音助手。今天');
    assert.deepEqual(
      calls.map((call) => call.text),
      ['你好，很高兴见到你！', '我是你的语音助手。'],
    );
  });

  test('results come in order with signed URLs to the stored audio; code and reasoning-free markdown only', async () => {
    const clock = createManualClock();
    const { provider } = instantProvider();
    const { reply, store, signer } = setup(clock, provider);
    const results = collect(reply);
    for (const delta of ['## 标题\n\n这是第一句话。\n', '```js\nconsole.log("不读")\n```\n', '这是第二句话！最后', '还有一句。']) reply.push(delta);
    reply.end();
    const all = await results;
    assert.deepEqual(
      all.map((result) => [result.index, result.text]),
      [
        [0, '标题\n这是第一句话。'],
        [1, '这是第二句话！'],
        [2, '最后还有一句。'],
      ],
    );
    for (const result of all) {
      assert.equal(result.skipped, false);
      if (result.skipped) continue;
      const url = new URL(result.url, 'http://x');
      const id = url.pathname.split('/').at(-1) ?? '';
      assert.equal(signer.verify(id, url.searchParams.get('exp') ?? undefined, url.searchParams.get('sig') ?? undefined), 'valid');
      assert.equal(store.get(id)?.audio.toString(), result.text);
      assert.equal(result.durationMs, result.text.length * 100);
    }
  });

  test('a segment the provider cannot say is skipped and the rest still play', async () => {
    const clock = createManualClock();
    const { provider } = instantProvider(new Set(['这是第二句话。']));
    const { reply } = setup(clock, provider);
    const results = collect(reply);
    reply.push('这是第一句话。这是第二句话。这是第三句话。');
    reply.end();
    assert.deepEqual(
      (await results).map((result) => (result.skipped ? [result.index, result.code] : [result.index, 'audio'])),
      [
        [0, 'audio'],
        [1, 'tts_failed'],
        [2, 'audio'],
      ],
    );
  });

  test('after a quiet period the pending half sentence is spoken; a delta during the wait postpones it', async () => {
    const clock = createManualClock();
    const { provider, calls } = instantProvider();
    const { reply } = setup(clock, provider);
    reply.push('让我想一想');
    clock.advance(500);
    reply.push('这个问题');
    clock.advance(300);
    assert.equal(calls.length, 0, 'the model spoke 300 ms ago: not a stall yet');
    clock.advance(499);
    assert.equal(calls.length, 0);
    clock.advance(1);
    assert.deepEqual(
      calls.map((call) => call.text),
      ['让我想一想这个问题'],
    );
    assert.equal(clock.pendingTimers, 0, 'nothing pending, no timer armed');
    const results = collect(reply);
    reply.push('的答案是四十二。');
    reply.end();
    assert.deepEqual(
      (await results).map((result) => result.text),
      ['让我想一想这个问题', '的答案是四十二。'],
    );
    assert.equal(clock.pendingTimers, 0);
  });

  test('a complete Chinese sentence is spoken after the short sentence-end quiet, without waiting for the next character', async () => {
    const clock = createManualClock();
    const { provider, calls } = instantProvider();
    const { reply } = setup(clock, provider, { sentenceEndFlushMs: 150 });
    reply.push('这句话已经说完了。」');
    clock.advance(149);
    assert.equal(calls.length, 0, 'a closer or more text may still come');
    clock.advance(1);
    assert.deepEqual(
      calls.map((call) => call.text),
      ['这句话已经说完了。」'],
    );
    reply.push('这一句还没有说完');
    clock.advance(150);
    assert.equal(calls.length, 1, 'half a sentence waits for the full stall');
    clock.advance(650);
    assert.equal(calls.length, 2, 'then the stall flush speaks it');
    reply.push('Numbers like 3.');
    clock.advance(799);
    assert.equal(calls.length, 2, 'a full stop may be a decimal point: it waits like half a sentence');
    reply.end();
    assert.equal(clock.pendingTimers, 0, 'no timer left after the end');
  });

  test('stop aborts syntheses in flight and ends the results', async () => {
    const clock = createManualClock();
    const calls: AbortSignal[] = [];
    const provider: TtsProvider = {
      id: 'slow',
      defaultVoice: 'v',
      synthesize: ({ signal }) =>
        new Promise((_resolve, reject) => {
          if (signal !== undefined) calls.push(signal);
          signal?.addEventListener('abort', () => reject(signal.reason));
        }),
    };
    const stop = new AbortController();
    const { reply } = setup(clock, provider, { signal: stop.signal });
    const results = collect(reply);
    reply.push('这是第一句话。这是第二句话。这是第三');
    await settle();
    assert.equal(calls.length, 2);
    stop.abort(new Error('user pressed stop'));
    assert.equal((await results).length, 0);
    assert.ok(calls.every((signal) => signal.aborted));
    reply.push('句话。');
    assert.equal(calls.length, 2);
    assert.equal(clock.pendingTimers, 0);
  });
});

const espeakMissing = findProgram(ESPEAK_PROGRAM, process.env.PATH) === undefined || findProgram(LAME_PROGRAM, process.env.PATH) === undefined;

describe('voice reply end to end', { skip: espeakMissing ? 'needs espeak-ng and lame on PATH (Debian packages espeak-ng and lame)' : false }, () => {
  test('a streamed markdown reply becomes MP3 segments the audio route serves in order', async () => {
    const store = new AudioStore({ ttlMs: 60_000, maxBytes: 10_000_000, clock: systemClock });
    const signer = createAudioUrlSigner({ secret: SECRET, clock: systemClock });
    const app = new Koa();
    const router = new Router();
    router.get(AUDIO_ROUTE, audioRoute(store, signer));
    app.use(router.routes());
    const server: Server = app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const provider = createEspeakTts({ pathEnv: process.env.PATH, timeoutMs: 10_000, clock: systemClock });
      const reply = new VoiceReply({ provider, concurrency: 3, store, signer, clock: systemClock, stallFlushMs: 0 });
      const results = collect(reply);
      const markdown = '**你好**！我来解释一下 `npm test` 怎么用。\n\n```bash\nnpm test\n```\n\nIt runs every test. 就这么简单😀。';
      for (let at = 0; at < markdown.length; at += 3) reply.push(markdown.slice(at, at + 3));
      reply.end();
      const all = await results;
      assert.deepEqual(
        all.map((result) => result.text),
        ['你好！我来解释一下 怎么用。', 'It runs every test.', '就这么简单。'],
      );
      for (const result of all) {
        assert.ok(!result.skipped, `segment ${result.index} was skipped`);
        if (result.skipped) continue;
        const response = await fetch(`${origin}${result.url}`);
        const audio = Buffer.from(await response.arrayBuffer());
        assert.equal(response.status, 200);
        assert.equal(response.headers.get('content-type'), 'audio/mpeg');
        assert.ok(audio[0] === 0xff && ((audio[1] ?? 0) & 0xe0) === 0xe0, 'MPEG frame sync');
        assert.ok((result.durationMs ?? 0) > 300, `segment ${result.index} lasts ${result.durationMs} ms`);
      }
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
