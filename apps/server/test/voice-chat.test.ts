import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { isSkippedAudio, type AudioData, type ReplyEvent } from '@wxstream/protocol';
import { findProgram, ESPEAK_PROGRAM, LAME_PROGRAM } from '../src/voice/espeak-tts.ts';
import { mp3Info as parseMp3 } from '../src/voice/mp3-info.ts';
import { speakableText } from '../src/voice/speech-segmenter.ts';
import type { SynthesizedAudio, TtsProvider } from '../src/voice/tts-provider.ts';
import { TtsError } from '../src/voice/voice-errors.ts';
import { startFakeYoudaoServer, type FakeYoudaoServer } from './support/fake-youdao-server.ts';
import { excessOver, resourceCounts } from './support/active-resources.ts';
import { eventually, PATIENCE_MS } from './support/eventually.ts';
import { createTestClock } from './support/test-clock.ts';
import { chatRequest, login, openStream, send } from './support/http-client.ts';
import { resume, stopReply } from './support/reply-routes-client.ts';
import { parseReplyBody } from './support/reply-stream.ts';
import { startEmulator, startTestServer, type TestServer } from './support/test-server.ts';
import { connectTestRedis, TEST_REDIS_URL } from './support/test-redis.ts';
import type { OpenAICompatibleEmulator } from '../src/offline-model/openai-compatible-emulator.ts';

const APP_KEY = 'voice-chat-app-key';
const APP_SECRET = 'voice-chat-app-secret';

/** A reply of several sentences, Chinese and English, with markup the voice must not read. */
const REPLY_CHUNKS = ['你好！今天', '我们来聊聊**流式**语音。', '第一句已经说完了；', '第二句马上开始。\n\n', 'Numbers like 3.14 stay whole. ', '`code` is silent. 最后一句！'];
const REPLY_TEXT = REPLY_CHUNKS.join('');
const REPLY_SCENARIO = { content: REPLY_CHUNKS, chunkDelayMs: 5 };
const LEAK_TEST_LOG_TTL_MS = 60_000;

function audioOf(events: readonly ReplyEvent[]): AudioData[] {
  return events.flatMap((event) => (event.type === 'audio' ? [event.data] : []));
}

function spokenText(audio: readonly AudioData[]): string {
  return audio.map((segment) => segment.text ?? '').join('');
}

/** What the speakable text says, ignoring where the segments cut it (whitespace at cuts is removed). */
function squash(text: string): string {
  return text.replace(/\s+/g, '');
}

function assertWellOrdered(events: readonly ReplyEvent[]): void {
  const terminalAt = events.findIndex((event) => event.type === 'done' || event.type === 'error');
  assert.equal(terminalAt, events.length - 1, 'exactly one terminal event, last');
  assert.deepEqual(
    events.map((event) => event.id),
    events.map((_, i) => i + 1),
    'ids run 1, 2, 3 … with no gaps',
  );
  assert.deepEqual(
    audioOf(events).map((segment) => segment.index),
    audioOf(events).map((_, i) => i),
    'audio indexes run 0, 1, 2 … in order',
  );
}

describe('voice replies through the real server, spoken by a fake Youdao that verifies every signature', () => {
  let youdao: FakeYoudaoServer;
  let emulator: OpenAICompatibleEmulator;
  let app: TestServer;
  let token: string;

  before(async () => {
    youdao = await startFakeYoudaoServer({ appKey: APP_KEY, appSecret: APP_SECRET });
    emulator = await startEmulator({ scenario: REPLY_SCENARIO });
    app = await startTestServer({
      upstream: emulator,
      env: { VOICE_PROVIDER: 'youdao', YOUDAO_APP_KEY: APP_KEY, YOUDAO_APP_SECRET: APP_SECRET, YOUDAO_API_BASE_URL: youdao.url, VOICE_STALL_FLUSH_MS: '0', VOICE_NAMES: 'youxiaoxun' },
    });
    token = await login(app.url);
  });
  after(async () => {
    await app.close();
    await emulator.close();
    await youdao.close();
  });

  test('a reply that asks for voice carries audio segments in order, interleaved with its text, all before done', async () => {
    // The model holds its last piece until the client has heard the first segment: "while the text
    // is still streaming" is then a fact of the order of events, not of how fast the machine is.
    let firstAudioHeard = () => {};
    const heard = new Promise<void>((resolve) => (firstAudioHeard = resolve));
    emulator.setScenario({ content: REPLY_CHUNKS, chunkDelayMs: 5, holdAfter: { events: REPLY_CHUNKS.length, until: heard } });
    let body: string;
    try {
      const stream = await openStream(app.url, '/api/chat', chatRequest(token, { message: '说点什么', voice: true }));
      assert.equal(stream.status, 200, stream.text());
      await stream.waitForText('event: audio');
      firstAudioHeard();
      body = (await stream.ended).toString('utf8');
    } finally {
      firstAudioHeard();
      emulator.setScenario(REPLY_SCENARIO);
    }
    const { events, text } = parseReplyBody(body);
    assertWellOrdered(events);
    assert.equal(text, REPLY_TEXT);
    const start = events[0];
    assert.equal(start?.type === 'start' && start.data.voice, true);
    const audio = audioOf(events);
    assert.ok(audio.length >= 4, `several segments, got ${audio.length}`);
    assert.ok(audio.every((segment) => !isSkippedAudio(segment)), 'every segment spoken');
    assert.equal(squash(spokenText(audio)), squash(speakableText(REPLY_TEXT)), 'the segments speak exactly the speakable text');
    assert.doesNotMatch(spokenText(audio), /\*\*|`code`/, 'markup and code are not spoken');
    const firstAudio = events.findIndex((event) => event.type === 'audio');
    const lastDelta = events.map((event) => event.type).lastIndexOf('delta');
    assert.ok(firstAudio < lastDelta, 'the first segment arrives while the text is still streaming');
    assert.equal(events.at(-1)?.type, 'done');
    assert.ok(youdao.requests.length >= audio.length && youdao.requests.every((request) => request.signatureValid), 'every Youdao call was signed right');
  });

  test('each audio URL serves its MP3 without Authorization, with Content-Length and Range support', async () => {
    const answer = await send(app.url, '/api/chat', chatRequest(token, { message: '再来', voice: true }));
    const audio = audioOf(parseReplyBody(answer.text).events);
    for (const segment of audio) {
      assert.ok(!isSkippedAudio(segment));
      assert.equal(segment.format, 'mp3');
      assert.match(segment.url, /^\/api\/audio\/[A-Za-z0-9_-]+\?exp=\d+&sig=[A-Za-z0-9_-]+$/);
      const whole = await send(app.url, segment.url);
      assert.equal(whole.status, 200);
      assert.equal(whole.headers['content-type'], 'audio/mpeg');
      assert.equal(Number(whole.headers['content-length']), whole.body.length);
      assert.ok(parseMp3(whole.body) !== undefined, 'a valid MP3 stream');
      assert.ok(segment.durationMs !== undefined && segment.durationMs > 0, 'duration is told');
      const part = await send(app.url, segment.url, { headers: { Range: 'bytes=0-9' } });
      assert.equal(part.status, 206);
      assert.deepEqual(part.body, whole.body.subarray(0, 10));
    }
    const forged = audio[0] !== undefined && !isSkippedAudio(audio[0]) ? audio[0].url.replace(/sig=(.)/, (_, first: string) => `sig=${first === 'A' ? 'B' : 'A'}`) : '';
    assert.equal((await send(app.url, forged)).status, 403);
  });

  test('a reply that does not ask for voice has no audio events and start says nothing of voice', async () => {
    const calls = youdao.requests.length;
    const answer = await send(app.url, '/api/chat', chatRequest(token, { message: '安静点' }));
    const { events } = parseReplyBody(answer.text);
    assert.equal(audioOf(events).length, 0);
    const start = events[0];
    assert.ok(start?.type === 'start' && !('voice' in start.data));
    assert.equal(youdao.requests.length, calls, 'nothing was synthesized');
  });

  test('resuming a voice reply replays its audio events with the same ids and URLs', async () => {
    const answer = await send(app.url, '/api/chat', chatRequest(token, { message: '重播', voice: true }));
    const { events } = parseReplyBody(answer.text);
    const start = events[0];
    assert.ok(start?.type === 'start');
    const resumed = await resume(app.url, token, start.data.messageId, '1');
    assert.equal(resumed.status, 200);
    assert.deepEqual(parseReplyBody(resumed.text).events, events.slice(1));
  });

  test('bad voice fields are refused before anything starts', async () => {
    for (const body of [
      { message: 'x', voice: 'yes' },
      { message: 'x', voice: true, voiceName: 42 },
      { message: 'x', voiceName: 'youxiaoqin' },
    ]) {
      const answer = await send(app.url, '/api/chat', chatRequest(token, body));
      assert.equal(answer.status, 400, JSON.stringify(body));
      assert.equal((answer.json() as { error: { code: string } }).error.code, 'invalid_request');
    }
  });

  test('a voice the provider does not offer, or no voice name at all, is 400 invalid_voice before anything is synthesized', async () => {
    const calls = youdao.requests.length;
    const upstream = emulator.requests.length;
    for (const voiceName of ['bad voice!', '.', '..', '-h', '--help', 'youxiaozhi', 'alloy']) {
      const answer = await send(app.url, '/api/chat', chatRequest(token, { message: 'x', voice: true, voiceName }));
      assert.equal(answer.status, 400, voiceName);
      assert.equal((answer.json() as { error: { code: string } }).error.code, 'invalid_voice', voiceName);
    }
    assert.equal(youdao.requests.length, calls, 'nothing was synthesized');
    assert.equal(emulator.requests.length, upstream, 'the model was not asked');
  });

  test('the voice the request names is the one synthesized', async () => {
    const before = youdao.requests.length;
    const answer = await send(app.url, '/api/chat', chatRequest(token, { message: '换个声音', voice: true, voiceName: 'youxiaoxun' }));
    assert.equal(answer.status, 200);
    const made = youdao.requests.slice(before);
    assert.ok(made.length > 0);
    assert.ok(made.every((request) => request.params.voiceName === 'youxiaoxun'));
  });

  test('spoken segments are counted in /metrics', async () => {
    const metrics = await send(app.url, '/metrics');
    const spoken = /wxstream_voice_segments_total\{outcome="spoken"\} (\d+)/.exec(metrics.text);
    assert.ok(spoken !== null && Number(spoken[1]) > 0, metrics.text.slice(0, 400));
  });
});

/** A provider that takes `latencyOf(text)` ms, fails for texts in `failing`, and records aborts. */
function scriptedProvider(latencyOf: (text: string, call: number) => number, failing: (text: string) => boolean = () => false) {
  const aborted: string[] = [];
  let calls = 0;
  const provider: TtsProvider = {
    id: 'scripted',
    defaultVoice: 'v',
    synthesize({ text, signal }): Promise<SynthesizedAudio> {
      const call = calls++;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          signal?.removeEventListener('abort', onAbort);
          if (failing(text)) reject(new TtsError('tts_failed', 'scripted failure'));
          else resolve({ audio: Buffer.from(`audio:${text}`), format: 'mp3', durationMs: 100 });
        }, latencyOf(text, call));
        const onAbort = () => {
          clearTimeout(timer);
          aborted.push(text);
          reject(signal?.reason);
        };
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    },
  };
  return { provider, aborted, get calls() {
    return calls;
  } };
}

describe('voice replies with a scripted provider', () => {
  test('segments whose syntheses finish out of order still arrive in order', async () => {
    const emulator = await startEmulator({ scenario: { content: ['第一句话在这里。', '第二句话也来了。', '第三句话结束了。', '最后还有一句。'] } });
    // The first segment is the slowest: later ones finish first and must wait for it.
    const scripted = scriptedProvider((_text, call) => (call === 0 ? 150 : 10));
    const app = await startTestServer({ upstream: emulator, ttsProvider: scripted.provider, env: { VOICE_CONCURRENCY: '4' } });
    try {
      const token = await login(app.url);
      const answer = await send(app.url, '/api/chat', chatRequest(token, { message: 'go', voice: true }));
      const { events } = parseReplyBody(answer.text);
      assertWellOrdered(events);
      const audio = audioOf(events);
      assert.deepEqual(
        audio.map((segment) => segment.text),
        ['第一句话在这里。', '第二句话也来了。', '第三句话结束了。', '最后还有一句。'],
      );
    } finally {
      await app.close();
      await emulator.close();
    }
  });

  test('a segment that cannot be synthesized is skipped with tts_failed and the rest is still spoken', async () => {
    const emulator = await startEmulator({ scenario: { content: ['这一句能读出来。', '这一句读不出来。', '这一句又可以了。'] } });
    const scripted = scriptedProvider(() => 5, (text) => text.includes('读不出来'));
    const app = await startTestServer({ upstream: emulator, ttsProvider: scripted.provider });
    try {
      const token = await login(app.url);
      const answer = await send(app.url, '/api/chat', chatRequest(token, { message: 'go', voice: true }));
      const { events, text } = parseReplyBody(answer.text);
      assertWellOrdered(events);
      assert.equal(text, '这一句能读出来。这一句读不出来。这一句又可以了。', 'the text is whole');
      const audio = audioOf(events);
      assert.deepEqual(
        audio.map((segment) => (isSkippedAudio(segment) ? segment.code : 'spoken')),
        ['spoken', 'tts_failed', 'spoken'],
      );
      assert.equal(scripted.calls, 4, 'the failed segment was tried twice');
      assert.equal(events.at(-1)?.type, 'done');
    } finally {
      await app.close();
      await emulator.close();
    }
  });

  test('stop ends a voice reply at once: syntheses in flight are aborted and no audio follows done stopped', async () => {
    const emulator = await startEmulator({ scenario: { content: ['第一句话很快说完。', '第二句话还在合成。', '第三句话永远不来。'], chunkDelayMs: 200 } });
    const scripted = scriptedProvider(() => 60_000);
    const app = await startTestServer({ upstream: emulator, ttsProvider: scripted.provider });
    try {
      const token = await login(app.url);
      const stream = await openStream(app.url, '/api/chat', chatRequest(token, { message: 'go', voice: true }));
      await stream.waitForText('第二句话');
      const start = parseReplyBody(stream.text().slice(0, stream.text().indexOf('\n\n') + 2)).events[0];
      assert.ok(start?.type === 'start');
      assert.equal((await stopReply(app.url, token, start.data.messageId)).status, 200);
      // The provider takes a minute and the model still has text to send: a stream that ends with
      // done stopped and the synthesis aborted was ended by the stop, not by waiting for either.
      const body = (await stream.ended).toString('utf8');
      const { events } = parseReplyBody(body);
      assertWellOrdered(events);
      const last = events.at(-1);
      assert.ok(last?.type === 'done' && last.data.finishReason === 'stopped');
      assert.equal(audioOf(events).length, 0, 'no segment finished, none was sent');
      assert.ok(scripted.aborted.length >= 1, 'the synthesis in flight was aborted');
    } finally {
      await app.close();
      await emulator.close();
    }
  });

  test('a provider that hangs does not hold the reply hostage: it ends VOICE_FINISH_TIMEOUT_MS after its text, with the segments it had', async () => {
    // The rest of the text waits until the client has the first segment, so that segment is ready
    // before the finish timeout starts, however slow the machine.
    let firstAudioHeard = () => {};
    const heard = new Promise<void>((resolve) => (firstAudioHeard = resolve));
    const emulator = await startEmulator({ scenario: { content: ['这一句很快读完。', '这一句的合成卡住了。', '这一句也等不到。'], holdAfter: { events: 2, until: heard } } });
    const scripted = scriptedProvider((text) => (text.includes('很快') ? 5 : 60_000));
    const app = await startTestServer({ upstream: emulator, ttsProvider: scripted.provider, env: { VOICE_FINISH_TIMEOUT_MS: '300' } });
    try {
      const token = await login(app.url);
      const stream = await openStream(app.url, '/api/chat', chatRequest(token, { message: 'go', voice: true }));
      await stream.waitForText('event: audio');
      firstAudioHeard();
      const { events, text } = parseReplyBody((await stream.ended).toString('utf8'));
      assertWellOrdered(events);
      assert.equal(text, '这一句很快读完。这一句的合成卡住了。这一句也等不到。');
      assert.deepEqual(
        audioOf(events).map((segment) => segment.text),
        ['这一句很快读完。'],
        'the segment that was ready is there, the hung ones are not',
      );
      assert.ok(events.at(-1)?.type === 'done');
      // Had the reply waited for the provider's minute, its syntheses would have finished, not been aborted.
      assert.ok(scripted.aborted.length >= 1, 'the hung syntheses were aborted');
    } finally {
      firstAudioHeard();
      await app.close();
      await emulator.close();
    }
  });

  test('with voice off a reply that asks for it says voice: false and the audio route does not exist', async () => {
    const emulator = await startEmulator({ scenario: { content: ['没有声音。'] } });
    const app = await startTestServer({ upstream: emulator, env: { VOICE_PROVIDER: 'off' } });
    try {
      const token = await login(app.url);
      const answer = await send(app.url, '/api/chat', chatRequest(token, { message: 'go', voice: true }));
      const { events, text } = parseReplyBody(answer.text);
      const start = events[0];
      assert.ok(start?.type === 'start' && start.data.voice === false);
      assert.equal(text, '没有声音。');
      assert.equal(audioOf(events).length, 0);
      assert.equal((await send(app.url, '/api/audio/abc?exp=1&sig=x')).status, 404);
    } finally {
      await app.close();
      await emulator.close();
    }
  });
});

const espeakMissing = [ESPEAK_PROGRAM, LAME_PROGRAM].filter((program) => findProgram(program, process.env.PATH) === undefined);

describe('voice replies spoken offline by espeak-ng and lame', { skip: espeakMissing.length > 0 ? `needs ${espeakMissing.join(' and ')} (bash scripts/system-packages.sh)` : false }, () => {
  test('the embedded default speaks the offline model reply as real MP3s of plausible length', async () => {
    const app = await startTestServer({ upstream: 'offline' });
    try {
      const token = await login(app.url);
      const answer = await send(app.url, '/api/chat', chatRequest(token, { message: '你好', voice: true }));
      const { events } = parseReplyBody(answer.text);
      assertWellOrdered(events);
      const audio = audioOf(events);
      assert.ok(audio.length > 0);
      for (const segment of audio.slice(0, 3)) {
        assert.ok(!isSkippedAudio(segment), `segment ${segment.index} spoken`);
        const file = await send(app.url, segment.url);
        assert.equal(file.status, 200);
        const info = parseMp3(file.body);
        assert.ok(info !== undefined, 'lame made an MP3');
        // espeak-ng reads a few characters a second: a segment lasts more than a blink and less than forever.
        const chars = [...segment.text].length;
        assert.ok(info.durationMs > chars * 20 && info.durationMs < chars * 1500 + 2000, `${info.durationMs} ms for ${chars} characters`);
      }
    } finally {
      await app.close();
    }
  });
});

describe('voices espeak-ng offers', { skip: espeakMissing.length > 0 ? `needs ${espeakMissing.join(' and ')} (bash scripts/system-packages.sh)` : false }, () => {
  test('"." and ".." (which crash espeak-ng) and option-like names are refused with invalid_voice; a voice espeak-ng lists is spoken', async () => {
    const emulator = await startEmulator({ scenario: { content: ['Hello there.'] } });
    const app = await startTestServer({ upstream: emulator });
    try {
      const token = await login(app.url);
      for (const voiceName of ['.', '..', '-h', '--voices', 'no-such-voice']) {
        const answer = await send(app.url, '/api/chat', chatRequest(token, { message: 'x', voice: true, voiceName }));
        assert.equal(answer.status, 400, voiceName);
        assert.equal((answer.json() as { error: { code: string } }).error.code, 'invalid_voice', voiceName);
      }
      const answer = await send(app.url, '/api/chat', chatRequest(token, { message: 'speak', voice: true, voiceName: 'en-us' }));
      assert.equal(answer.status, 200, answer.text);
      const audio = audioOf(parseReplyBody(answer.text).events);
      assert.ok(audio.length > 0 && audio.every((segment) => !isSkippedAudio(segment)), 'spoken in the voice asked for');
    } finally {
      await app.close();
      await emulator.close();
    }
  });
});

describe('voice replies cut short while espeak-ng speaks', { skip: espeakMissing.length > 0 ? `needs ${espeakMissing.join(' and ')} (bash scripts/system-packages.sh)` : false }, () => {
  test('stops and disconnects mid-speech leave no espeak-ng or lame process, timer or socket behind', async () => {
    const sentences = Array.from({ length: 12 }, (_, index) => `这是第${index + 1}句比较长的话，用来让合成多花一点时间。`);
    const emulator = await startEmulator({ scenario: { content: sentences, chunkDelayMs: 15 } });
    const clock = createTestClock();
    const app = await startTestServer({ upstream: emulator, clock, env: { REPLY_LOG_TTL_MS: String(LEAK_TEST_LOG_TTL_MS), AUDIO_TTL_SECONDS: '10' } });
    try {
      const token = await login(app.url);
      // Warm up (espeak's first run, the SDK's pool), then move past that reply's log retention.
      await send(app.url, '/api/chat', chatRequest(token, { message: 'warm up', voice: true }));
      await eventually(() => app.server.activeReplies === 0, 'the warm-up reply to finish');
      clock.advance(LEAK_TEST_LOG_TTL_MS);
      const baseline = resourceCounts();
      const metricsBefore = await send(app.url, '/metrics');
      for (let round = 0; round < 6; round += 1) {
        const stream = await openStream(app.url, '/api/chat', chatRequest(token, { message: `round ${round}`, voice: true }));
        await stream.waitForText('event: audio', PATIENCE_MS);
        const start = parseReplyBody(stream.text().slice(0, stream.text().indexOf('\n\n') + 2)).events[0];
        assert.ok(start?.type === 'start');
        if (round % 2 === 0) {
          assert.equal((await stopReply(app.url, token, start.data.messageId)).status, 200);
          const last = parseReplyBody((await stream.ended).toString('utf8')).events.at(-1);
          assert.ok(last?.type === 'done' && last.data.finishReason === 'stopped', 'stopped mid-speech');
        } else {
          // The client leaves; the reply (and its voice) goes on to its end, as CONTINUE_ON_DISCONNECT says.
          stream.destroy();
          const rest = await resume(app.url, token, start.data.messageId, '1');
          assert.equal(parseReplyBody(rest.text).events.at(-1)?.type, 'done');
        }
      }
      await eventually(() => app.server.activeReplies === 0, 'every reply to finish');
      clock.advance(LEAK_TEST_LOG_TTL_MS);
      await eventually(() => excessOver(baseline).length === 0, 'resources back to the baseline').catch(() => undefined);
      assert.deepEqual(excessOver(baseline), [], 'no child process, pipe, timer or socket left');
      assert.notEqual((await send(app.url, '/metrics')).text, metricsBefore.text, 'segments were spoken meanwhile');
    } finally {
      await app.close();
      await emulator.close();
    }
  });
});

const connectedRedis = await connectTestRedis();
const redisSkip = connectedRedis.available ? false : connectedRedis.skipReason;
after(async () => {
  if (connectedRedis.available) await connectedRedis.redis.dispose();
});

describe('voice replies on several instances sharing Redis', { skip: redisSkip }, () => {
  test('an audio URL from one instance plays on another, byte for byte, and expires with its link', async () => {
    const prefix = connectedRedis.available ? `${connectedRedis.redis.keyPrefix}voice:` : '';
    const emulator = await startEmulator({ scenario: { content: ['第一台服务器说的话。', '第二句也在这里。'] } });
    const env = { REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: prefix, AUDIO_TTL_SECONDS: '10' };
    const scripted = scriptedProvider(() => 5);
    const first = await startTestServer({ upstream: emulator, ttsProvider: scripted.provider, env });
    const second = await startTestServer({ upstream: emulator, env });
    try {
      const token = await login(first.url);
      const answer = await send(first.url, '/api/chat', chatRequest(token, { message: 'go', voice: true }));
      const audio = audioOf(parseReplyBody(answer.text).events);
      assert.equal(audio.length, 2);
      for (const segment of audio) {
        assert.ok(!isSkippedAudio(segment));
        const here = await send(first.url, segment.url);
        // The copy is written in the background: wait for it, however loaded the machine.
        const there = await eventually(async () => {
          const answer = await send(second.url, segment.url);
          return answer.status !== 404 && answer;
        }, 'the audio copy to reach the other instance');
        assert.equal(there.status, 200, there.text);
        assert.deepEqual(there.body, here.body);
        assert.equal(there.headers['content-type'], 'audio/mpeg');
        const ranged = await send(second.url, segment.url, { headers: { Range: 'bytes=2-5' } });
        assert.equal(ranged.status, 206);
        assert.deepEqual(ranged.body, here.body.subarray(2, 6));
      }
      const keys = connectedRedis.available ? await connectedRedis.redis.connections.commands.keys(`${prefix}audio:*`) : [];
      assert.equal(keys.length, 2);
      for (const key of keys) {
        const ttl = connectedRedis.available ? await connectedRedis.redis.connections.commands.pTTL(key) : 0;
        assert.ok(ttl > 0 && ttl <= 10_000, `the copy expires with its link (${ttl} ms left)`);
      }
    } finally {
      await first.close();
      await second.close();
      await emulator.close();
    }
  });
});
