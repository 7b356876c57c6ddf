/**
 * Voice-conversation benchmark: from the release of 按住 说话 to the first `audio` event of the spoken
 * answer — upload → transcript → chat request → first spoken segment — and how much of it is ours.
 *
 * One process, as the mini-program would do it over loopback: the recording (espeak-ng → 16 kHz mono
 * 48 kbit/s MP3, or silent MP3 frames without espeak) is POSTed to `/api/transcriptions` as multipart
 * (the release), the transcript is sent at once to `/api/chat` with `voice: true`, and the stream is
 * read with the client core's decoder and SSE parser until the first `audio` event.
 * - Fake providers of fixed delays: a transcriber that answers after `STT_MS`, a model that sends its
 *   headers after `MODEL_FIRST_MS` and a delta every `MODEL_GAP_MS` (the first sentence is complete when
 *   the second delta arrives: sentence-end and stall flushes off, so that moment is known), a speech
 *   provider that answers after `TTS_MS`. Our overhead = total − (STT + first + gap + TTS): multipart
 *   parsing, format sniffing, limits, the chat route, segmenting, the audio store, SSE.
 * - The offline defaults: pocketsphinx (+ lame, sox), the built-in offline model and espeak-ng + lame,
 *   each request beside a direct call of pocketsphinx on the same recording made just before it.
 * Figures only; nothing is asserted.
 */
import { arch, cpus, loadavg, platform } from 'node:os';
import { performance } from 'node:perf_hooks';
import { SseParser, Utf8StreamDecoder } from '@wxstream/client';
import { parseReplyEvent, ROUTES, type TranscriptionResponse } from '@wxstream/protocol';
import { systemClock } from '../src/clock.ts';
import type { Env } from '../src/config.ts';
import { createLogger } from '../src/logger.ts';
import { startOpenAICompatibleEmulator, type OpenAICompatibleEmulator } from '../src/offline-model/openai-compatible-emulator.ts';
import { findProgram } from '../src/process/programs.ts';
import { loadServerConfig } from '../src/server-config.ts';
import { startServer, type StartServerOptions } from '../src/start-server.ts';
import { createPocketsphinxTranscriber } from '../src/transcription/pocketsphinx-transcriber.ts';
import { silentMp3 } from '../test/support/fake-youdao-server.ts';
import { spokenMp3 } from '../test/support/recordings.ts';
import { fixedLatencySpeech, fixedLatencyTranscriber } from './fixed-latency.ts';
import { percentile } from './percentile.ts';

const STT_MS = Number(process.env.VOICE_INPUT_BENCH_STT_MS ?? 300);
const MODEL_FIRST_MS = Number(process.env.VOICE_INPUT_BENCH_MODEL_FIRST_MS ?? 200);
const MODEL_GAP_MS = Number(process.env.VOICE_INPUT_BENCH_MODEL_GAP_MS ?? 100);
const TTS_MS = Number(process.env.VOICE_INPUT_BENCH_TTS_MS ?? 150);
const ROUNDS = Number(process.env.VOICE_INPUT_BENCH_ROUNDS ?? 10);
const OFFLINE_ROUNDS = Number(process.env.VOICE_INPUT_BENCH_OFFLINE_ROUNDS ?? 3);
const PROVIDERS_MS = STT_MS + MODEL_FIRST_MS + MODEL_GAP_MS + TTS_MS;

const QUESTION = 'What is the capital of France?';
const ANSWER = ['The capital of France is Paris. ', 'It lies on the Seine. ', 'It is known for its museums.'];
const SILENT_MP3 = silentMp3(20);

interface Timings {
  /** Release → transcript in hand. */
  transcript: number;
  /** Transcript → first audio event. */
  answer: number;
  /** Release → first audio event. */
  total: number;
}

async function converse(url: string, token: string, recording: Buffer): Promise<Timings> {
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(recording)], { type: 'audio/mpeg' }), 'tmp_recording.mp3');
  const released = performance.now();
  const upload = await fetch(url + ROUTES.transcriptions, { method: 'POST', headers: { Authorization: `Bearer ${token}` }, body: form });
  if (upload.status !== 200) throw new Error(`transcription answered ${upload.status}: ${await upload.text()}`);
  const { text } = (await upload.json()) as TranscriptionResponse;
  const transcribed = performance.now();

  let firstAudio = Number.NaN;
  const parser = new SseParser((sse) => {
    const parsed = parseReplyEvent(sse);
    if (parsed.ok && parsed.event.type === 'audio' && Number.isNaN(firstAudio)) firstAudio = performance.now();
  });
  const decoder = new Utf8StreamDecoder();
  const response = await fetch(url + ROUTES.chat, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body: JSON.stringify({ message: text, voice: true }),
  });
  if (response.status !== 200 || response.body === null) throw new Error(`chat answered ${response.status}`);
  for await (const bytes of response.body) parser.feed(decoder.decode(bytes, { stream: true }));
  parser.feed(decoder.decode());
  return { transcript: transcribed - released, answer: firstAudio - transcribed, total: firstAudio - released };
}

async function withServer<T>(env: Env, options: Pick<StartServerOptions, 'transcriber' | 'ttsProvider'>, use: (url: string, token: string) => Promise<T>): Promise<T> {
  const config = loadServerConfig({
    HOST: '127.0.0.1',
    PORT: '0',
    DATABASE_PATH: ':memory:',
    RATE_LIMIT_PER_MINUTE: '0',
    STT_RATE_LIMIT_PER_MINUTE: '0',
    STT_DAILY_SECONDS_QUOTA: '0',
    DAILY_TOKEN_QUOTA: '0',
    METRICS_PROCESS: 'false',
    LOG_LEVEL: 'silent',
    TOKEN_SECRET: 'benchmark-secret-that-is-long-enough-0123',
    VOICE_CACHE_ENTRIES: '0',
    ...env,
  });
  const server = await startServer({ config, logger: createLogger({ level: 'silent' }), ...options });
  try {
    const login = await fetch(`${server.url}${ROUTES.login}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ code: 'talker' }) });
    const { token } = (await login.json()) as { token: string };
    return await use(server.url, token);
  } finally {
    await server.shutdown();
  }
}

async function rounds(count: number, url: string, token: string, recording: Buffer): Promise<Timings[]> {
  await converse(url, token, recording); // warm-up
  const runs: Timings[] = [];
  for (let round = 0; round < count; round += 1) runs.push(await converse(url, token, recording));
  return runs;
}

const ms = (value: number) => `${value.toFixed(1)} ms`;

function row(label: string, values: readonly number[], minus = 0): string {
  const sorted = values.map((value) => value - minus).sort((a, b) => a - b);
  return `${label.padEnd(52)} p50 ${ms(percentile(sorted, 50)).padStart(10)}  p95 ${ms(percentile(sorted, 95)).padStart(10)}  max ${ms(sorted.at(-1) ?? Number.NaN).padStart(10)}  (n=${sorted.length})`;
}

async function main(): Promise<void> {
  console.log(`voice-input bench — ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${platform()} ${arch()}, Node ${process.versions.node}, load ${loadavg()[0]?.toFixed(2)}`);
  const spoken = spokenMp3(QUESTION);
  const recording = spoken ?? SILENT_MP3;
  console.log(`recording: ${spoken === undefined ? 'silent MP3 frames (espeak-ng/lame missing)' : `"${QUESTION}" by espeak-ng, 16 kHz mono 48 kbit/s MP3`}, ${recording.length} bytes`);
  console.log('');

  const emulator: OpenAICompatibleEmulator = await startOpenAICompatibleEmulator({
    host: '127.0.0.1',
    // No separate role chunk: the first sentence comes with the headers, the next delta MODEL_GAP_MS later.
    scenario: { content: ANSWER, chunkDelayMs: MODEL_GAP_MS, headersDelayMs: MODEL_FIRST_MS, roleChunk: false },
  });
  try {
    const fake = await withServer(
      {
        OPENAI_BASE_URL: emulator.baseURL,
        OPENAI_API_KEY: 'sk-benchmark',
        OPENAI_MODEL: 'bench-model',
        VOICE_STALL_FLUSH_MS: '0',
        VOICE_SENTENCE_END_FLUSH_MS: '0',
      },
      { transcriber: fixedLatencyTranscriber(STT_MS, QUESTION), ttsProvider: fixedLatencySpeech(TTS_MS) },
      (url, token) => rounds(ROUNDS, url, token, recording),
    );
    console.log(`fake providers: transcription ${STT_MS} ms, model headers ${MODEL_FIRST_MS} ms + ${MODEL_GAP_MS} ms to the end of its first sentence, speech ${TTS_MS} ms (${PROVIDERS_MS} ms in all):`);
    console.log(row('  release → transcript', fake.map((run) => run.transcript)));
    console.log(row(`  … our part (minus ${STT_MS} ms)`, fake.map((run) => run.transcript), STT_MS));
    console.log(row('  transcript → first audio event', fake.map((run) => run.answer)));
    console.log(row('  release → first audio event', fake.map((run) => run.total)));
    console.log(row(`  … our overhead (minus ${PROVIDERS_MS} ms of providers)`, fake.map((run) => run.total), PROVIDERS_MS));
  } finally {
    await emulator.close();
  }
  console.log('');

  const missing = ['pocketsphinx_continuous', 'sox', 'lame', 'espeak-ng'].filter((name) => findProgram(name, process.env.PATH) === undefined);
  if (missing.length > 0 || spoken === undefined) {
    console.log(`offline defaults: skipped, ${missing.join(', ')} not installed (bash scripts/system-packages.sh)`);
    return;
  }
  // Direct calls and requests alternate, so the machine's load weighs on both alike; the rows that
  // subtract compare each request with the direct call just before it.
  const sphinx = createPocketsphinxTranscriber({ pathEnv: process.env.PATH, timeoutMs: 60_000, clock: systemClock });
  const direct: number[] = [];
  const offline = await withServer({ STT_PROVIDER: 'pocketsphinx', VOICE_PROVIDER: 'espeak' }, {}, async (url, token) => {
    await converse(url, token, spoken);
    const runs: Timings[] = [];
    for (let round = 0; round < OFFLINE_ROUNDS; round += 1) {
      const began = performance.now();
      await sphinx.transcribe({ audio: spoken, format: 'mp3', sampleRate: 16000, durationMs: 0, language: undefined });
      direct.push(performance.now() - began);
      runs.push(await converse(url, token, spoken));
    }
    return runs;
  });
  console.log('offline defaults: pocketsphinx, the built-in offline model, espeak-ng + lame:');
  console.log(row('  pocketsphinx alone, called directly', direct));
  console.log(row('  release → transcript', offline.map((run) => run.transcript)));
  console.log(row('  … minus the direct call of the same round', offline.map((run, round) => run.transcript - (direct[round] ?? Number.NaN))));
  console.log(row('  transcript → first audio event', offline.map((run) => run.answer)));
  console.log(row('  release → first audio event', offline.map((run) => run.total)));
}

await main();
