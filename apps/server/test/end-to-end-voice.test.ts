/**
 * End to end for voice: the real server speaks a reply (offline espeak-ng where installed, else a
 * provider of fixed latency), the client core reads it through a node:http `wx.request` re-slicing
 * the socket's chunks, and its `AudioPlaybackQueue` plays the segments through a player that really
 * fetches each URL from the server the way InnerAudioContext does — no Authorization header — and
 * only reports `canplay` once it holds a valid MP3. So the URLs the server writes, the way the client
 * resolves them and the order it plays them in are checked together.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AudioPlaybackQueue, initialReplyState, openReplyStream, reduceReply, type AudioPlayer, type AudioPlayerError, type ReplyState } from '@wxstream/client';
import type { ReplyEvent } from '@wxstream/protocol';
import { createSeededRandom } from '../../../packages/client/test/support/seeded-random.ts';
import { ESPEAK_PROGRAM, findProgram, LAME_PROGRAM } from '../src/voice/espeak-tts.ts';
import { mp3Info } from '../src/voice/mp3-info.ts';
import type { SynthesizedAudio, TtsProvider } from '../src/voice/tts-provider.ts';
import { SILENT_FRAME_MS, silentMp3 } from './support/fake-youdao-server.ts';
import { login, send } from './support/http-client.ts';
import { createNodeWxRequest } from './support/node-wx-request.ts';
import { startEmulator, startTestServer } from './support/test-server.ts';

/** An InnerAudioContext that downloads `src` over real HTTP and "plays" for a few milliseconds. */
class FetchingPlayer implements AudioPlayer {
  #src = '';
  #canplay: Array<() => void> = [];
  #ended: Array<() => void> = [];
  #error: Array<(error: AudioPlayerError) => void> = [];
  #playTimer: ReturnType<typeof setTimeout> | undefined;
  #loaded = false;
  #wantsToPlay = false;
  readonly #played: string[];
  readonly #fetchedBytes: Map<string, number>;
  destroyed = false;

  constructor(played: string[], fetchedBytes: Map<string, number>) {
    this.#played = played;
    this.#fetchedBytes = fetchedBytes;
  }

  get src(): string {
    return this.#src;
  }
  set src(value: string) {
    this.#src = value;
    void (async () => {
      const answer = await fetch(value);
      const bytes = Buffer.from(await answer.arrayBuffer());
      if (this.destroyed) return;
      if (answer.status !== 200 || answer.headers.get('content-type') !== 'audio/mpeg' || mp3Info(bytes) === undefined) {
        for (const listener of this.#error) listener({ errCode: 10004, errMsg: `status ${answer.status}` });
        return;
      }
      this.#fetchedBytes.set(value, bytes.length);
      this.#loaded = true;
      for (const listener of this.#canplay) listener();
      this.#startIfReady();
    })();
  }
  /** Like InnerAudioContext, `play()` before the audio has loaded starts it once it has. */
  play(): void {
    this.#played.push(this.#src);
    this.#wantsToPlay = true;
    this.#startIfReady();
  }
  #startIfReady(): void {
    if (!this.#wantsToPlay || !this.#loaded || this.destroyed) return;
    this.#playTimer = setTimeout(() => {
      for (const listener of this.#ended) listener();
    }, 3);
  }
  pause(): void {
    this.#wantsToPlay = false;
    clearTimeout(this.#playTimer);
  }
  stop(): void {
    clearTimeout(this.#playTimer);
  }
  destroy(): void {
    this.destroyed = true;
    clearTimeout(this.#playTimer);
  }
  onCanplay(listener: () => void): void {
    this.#canplay.push(listener);
  }
  offCanplay(listener?: () => void): void {
    this.#canplay = listener === undefined ? [] : this.#canplay.filter((l) => l !== listener);
  }
  onEnded(listener: () => void): void {
    this.#ended.push(listener);
  }
  offEnded(listener?: () => void): void {
    this.#ended = listener === undefined ? [] : this.#ended.filter((l) => l !== listener);
  }
  onError(listener: (error: AudioPlayerError) => void): void {
    this.#error.push(listener);
  }
  offError(listener?: (error: AudioPlayerError) => void): void {
    this.#error = listener === undefined ? [] : this.#error.filter((l) => l !== listener);
  }
}

/** A silent MP3 after a fixed wait: for machines without espeak-ng, the same path minus real speech. */
const SILENT_FRAMES = 8;
const fixedProvider: TtsProvider = {
  id: 'fixed',
  defaultVoice: 'v',
  synthesize: async (): Promise<SynthesizedAudio> => {
    await new Promise((resolve) => setTimeout(resolve, 5));
    return { audio: silentMp3(SILENT_FRAMES), format: 'mp3', durationMs: Math.round(SILENT_FRAMES * SILENT_FRAME_MS) };
  },
};

const espeakHere = [ESPEAK_PROGRAM, LAME_PROGRAM].every((program) => findProgram(program, process.env.PATH) !== undefined);

test(`the client core plays every spoken segment of a real reply in order from the URLs the server wrote (${espeakHere ? 'espeak-ng' : 'fixed-latency provider'})`, async () => {
  const emulator = await startEmulator({
    scenario: { content: ['你好！这是一段会被读出来的回复。', '第二句话说完，', '第三句也来了。', 'And an English sentence. ', '最后一句！'], splitEveryBytes: 7 },
  });
  const app = await startTestServer({ upstream: emulator, ...(espeakHere ? {} : { ttsProvider: fixedProvider }) });
  const played: string[] = [];
  const fetchedBytes = new Map<string, number>();
  const players: FetchingPlayer[] = [];
  const queue = new AudioPlaybackQueue({
    createPlayer: () => {
      const player = new FetchingPlayer(played, fetchedBytes);
      players.push(player);
      return player;
    },
    baseUrl: app.url,
    scheduler: { setTimeout: (callback, ms) => setTimeout(callback, ms), clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>) },
  });
  try {
    const token = await login(app.url);
    const random = createSeededRandom(7);
    let state: ReplyState = initialReplyState();
    let pushed = 0;
    const ended = new Promise<void>((resolve, reject) => {
      openReplyStream({
        request: createNodeWxRequest({ reslice: { random: () => random.next(), maxSlice: 19 } }),
        url: `${app.url}/api/chat`,
        token,
        body: { message: '读给我听', voice: true },
        handlers: {
          onEvent(event: ReplyEvent) {
            state = reduceReply(state, event);
            for (; pushed < state.audio.length; pushed += 1) {
              const segment = state.audio[pushed];
              if (segment !== undefined) queue.push(segment);
            }
            if (event.type === 'done' || event.type === 'error') resolve();
          },
          onError: reject,
        },
      });
    });
    await ended;
    queue.finish();
    assert.equal(state.status, 'done');
    assert.equal(state.voice, true);
    assert.ok(state.audio.length >= 4, `several segments, got ${state.audio.length}`);

    for (let waited = 0; queue.active && waited < 10_000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(queue.active, false, 'playback finished');
    const expected = state.audio.map((segment) => ('url' in segment ? `${app.url}${segment.url}` : 'skipped'));
    assert.ok(!expected.includes('skipped'), 'every segment was synthesized');
    assert.deepEqual(played, expected, 'each segment played once, in index order, from its own URL');
    assert.equal(fetchedBytes.size, expected.length, 'each was downloaded without Authorization and was a valid MP3');
    queue.dispose();
    assert.ok(players.every((player) => player.destroyed), 'no player left alive');
    // The links are the server's own: once the reply has ended they still play for a replay.
    const again = await send(app.url, state.audio[0] !== undefined && 'url' in state.audio[0] ? state.audio[0].url : '/');
    assert.equal(again.status, 200);
  } finally {
    queue.dispose();
    await app.close();
    await emulator.close();
  }
});
