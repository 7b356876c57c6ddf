/**
 * Voice benchmark: how long after a sentence is complete in the stream its `audio` event arrives,
 * and how much of that is ours rather than the speech provider's.
 *
 * One process: the emulator sends a reply of sentences, one delta each, `GAP_MS` apart; the server
 * (`startServer`, stall flushes off) speaks it; this process reads the stream with the client
 * core's decoder and SSE parser and stamps every event on arrival. The segmenter knows a sentence
 * is over when the next character arrives (a closing quote may still follow `。`), so sentence i
 * is complete at the arrival of delta i+1, and its delay is `audio(i) − delta(i+1)` (measured with
 * the sentence-end flush off; a last row shows what the default 150 ms flush saves the first words).
 * - With a fake provider of fixed latency `FAKE_LATENCY_MS`: our overhead = delay − that latency
 *   (segmenting, queueing, storing, signing, the reply log, SSE framing), at 1 and at
 *   `CONCURRENT` simultaneous replies.
 * - With espeak-ng + lame (when installed): the delay, beside the median time the same provider
 *   takes to synthesize the same sentences when called directly in the same run, so the difference
 *   is again ours.
 * Figures only; nothing is asserted.
 */
import { arch, cpus, loadavg, platform } from 'node:os';
import { performance } from 'node:perf_hooks';
import { SseParser, Utf8StreamDecoder } from '@wxstream/client';
import { parseReplyEvent, type ReplyEvent } from '@wxstream/protocol';
import { systemClock } from '../src/clock.ts';
import { createLogger } from '../src/logger.ts';
import { startOpenAICompatibleEmulator } from '../src/offline-model/openai-compatible-emulator.ts';
import { loadServerConfig } from '../src/server-config.ts';
import { startServer, type RunningServer } from '../src/start-server.ts';
import { createEspeakTts, ESPEAK_PROGRAM, findProgram, LAME_PROGRAM } from '../src/voice/espeak-tts.ts';
import type { TtsProvider } from '../src/voice/tts-provider.ts';
import { fixedLatencySpeech } from './fixed-latency.ts';
import { percentile } from './percentile.ts';

const FAKE_LATENCY_MS = Number(process.env.VOICE_BENCH_LATENCY_MS ?? 100);
const GAP_MS = Number(process.env.VOICE_BENCH_GAP_MS ?? 250);
const ROUNDS = Number(process.env.VOICE_BENCH_ROUNDS ?? 5);
const CONCURRENT = Number(process.env.VOICE_BENCH_CONCURRENT ?? 20);

const SENTENCES = [
  '流式语音的第一句话在这里。',
  '第二句话紧跟着到来，说得稍微长一点。',
  'The third sentence is in English. ',
  '第四句又回到中文了！',
  '第五句问一个问题吗？',
  '第六句是最后一句完整的句子。',
  '结尾。',
];

interface Arrival {
  at: number;
  event: ReplyEvent;
}

async function readReply(url: string, token: string, message: string): Promise<Arrival[]> {
  const arrivals: Arrival[] = [];
  const parser = new SseParser((sse) => {
    const parsed = parseReplyEvent(sse);
    if (parsed.ok) arrivals.push({ at: performance.now(), event: parsed.event });
  });
  const decoder = new Utf8StreamDecoder();
  const response = await fetch(`${url}/api/chat`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body: JSON.stringify({ message, voice: true }),
  });
  if (response.status !== 200 || response.body === null) throw new Error(`chat answered ${response.status}`);
  for await (const bytes of response.body) parser.feed(decoder.decode(bytes, { stream: true }));
  parser.feed(decoder.decode());
  return arrivals;
}

/** Delay of each complete sentence's audio after the delta that completed it. */
function sentenceDelays(arrivals: readonly Arrival[]): { delays: number[]; firstAudioAfterFirstDelta: number } {
  const deltas = arrivals.filter((arrival) => arrival.event.type === 'delta');
  const audio = arrivals.filter((arrival) => arrival.event.type === 'audio');
  const delays: number[] = [];
  // The last sentence is complete only when the stream ends, which the client cannot see.
  for (let i = 0; i < audio.length && i + 1 < deltas.length; i += 1) {
    const completedBy = deltas[i + 1];
    const spoken = audio[i];
    if (completedBy !== undefined && spoken !== undefined) delays.push(spoken.at - completedBy.at);
  }
  const firstDelta = deltas[0]?.at ?? Number.NaN;
  return { delays, firstAudioAfterFirstDelta: (audio[0]?.at ?? Number.NaN) - firstDelta };
}

const ms = (value: number) => `${value.toFixed(1)} ms`;

interface Run {
  delays: number[];
  firstAudio: number[];
}

async function withServer<T>(provider: TtsProvider, use: (server: RunningServer, tokens: string[]) => Promise<T>, users: number, env: Record<string, string>): Promise<T> {
  const emulator = await startOpenAICompatibleEmulator({ host: '127.0.0.1', scenario: { content: SENTENCES, chunkDelayMs: GAP_MS } });
  const config = loadServerConfig({
    HOST: '127.0.0.1',
    PORT: '0',
    DATABASE_PATH: ':memory:',
    RATE_LIMIT_PER_MINUTE: '0',
    DAILY_TOKEN_QUOTA: '0',
    METRICS_PROCESS: 'false',
    LOG_LEVEL: 'silent',
    TOKEN_SECRET: 'benchmark-secret-that-is-long-enough-0123',
    OPENAI_BASE_URL: emulator.baseURL,
    OPENAI_API_KEY: 'sk-benchmark',
    OPENAI_MODEL: 'bench-model',
    // Only sentence ends release segments, so every delay is measured from a known point.
    VOICE_STALL_FLUSH_MS: '0',
    VOICE_SENTENCE_END_FLUSH_MS: '0',
    VOICE_CACHE_ENTRIES: '0',
    ...env,
  });
  const server = await startServer({ config, logger: createLogger({ level: 'silent' }), ttsProvider: provider });
  try {
    const tokens: string[] = [];
    for (let user = 0; user < users; user += 1) {
      const login = await fetch(`${server.url}/api/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ code: `voice-${user}` }) });
      tokens.push(((await login.json()) as { token: string }).token);
    }
    return await use(server, tokens);
  } finally {
    await server.shutdown();
    await emulator.close();
  }
}

async function measure(provider: TtsProvider, concurrent: number, env: Record<string, string> = {}): Promise<Run> {
  return withServer(
    provider,
    async (server, tokens) => {
      const run: Run = { delays: [], firstAudio: [] };
      await readReply(server.url, tokens[0] ?? '', 'warm up');
      for (let round = 0; round < ROUNDS; round += 1) {
        const replies = await Promise.all(tokens.map((token, user) => readReply(server.url, token, `round ${round} user ${user}`)));
        for (const arrivals of replies) {
          const { delays, firstAudioAfterFirstDelta } = sentenceDelays(arrivals);
          run.delays.push(...delays);
          run.firstAudio.push(firstAudioAfterFirstDelta);
        }
      }
      return run;
    },
    concurrent,
    env,
  );
}

function row(label: string, values: readonly number[], minus = 0): string {
  const sorted = values.map((value) => value - minus).sort((a, b) => a - b);
  return `${label.padEnd(48)} p50 ${ms(percentile(sorted, 50)).padStart(9)}  p95 ${ms(percentile(sorted, 95)).padStart(9)}  max ${ms(sorted.at(-1) ?? Number.NaN).padStart(9)}  (n=${sorted.length})`;
}

async function main(): Promise<void> {
  console.log(`voice bench — ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${platform()} ${arch()}, Node ${process.versions.node}, load ${loadavg()[0]?.toFixed(2)}`);
  console.log(`${SENTENCES.length} sentences, one delta each, ${GAP_MS} ms apart; ${ROUNDS} rounds; stall flush off, cache off`);
  console.log('');

  const fake = fixedLatencySpeech(FAKE_LATENCY_MS);
  const single = await measure(fake, 1);
  const many = await measure(fake, CONCURRENT);
  console.log(`fake provider, fixed ${FAKE_LATENCY_MS} ms per segment — our overhead = delay − ${FAKE_LATENCY_MS} ms:`);
  console.log(row('  sentence complete → audio event, 1 reply', single.delays, FAKE_LATENCY_MS));
  console.log(row(`  sentence complete → audio event, ${CONCURRENT} replies`, many.delays, FAKE_LATENCY_MS));
  console.log(row('  first delta → first audio event, 1 reply', single.firstAudio));
  const early = await measure(fake, 1, { VOICE_SENTENCE_END_FLUSH_MS: '150' });
  console.log(row('  … with the default sentence-end flush (150 ms)', early.firstAudio));
  console.log('');

  const missing = [ESPEAK_PROGRAM, LAME_PROGRAM].filter((program) => findProgram(program, process.env.PATH) === undefined);
  if (missing.length > 0) {
    console.log(`espeak-ng: skipped, ${missing.join(' and ')} not installed (bash scripts/system-packages.sh)`);
    return;
  }
  const espeak = createEspeakTts({ pathEnv: process.env.PATH, timeoutMs: 15_000, clock: systemClock });
  const direct: number[] = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const sentence of SENTENCES.slice(0, -1)) {
      const began = performance.now();
      await espeak.synthesize({ text: sentence.trim(), voice: espeak.defaultVoice });
      direct.push(performance.now() - began);
    }
  }
  const spoken = await measure(espeak, 1);
  const directMedian = percentile([...direct].sort((a, b) => a - b), 50);
  console.log('espeak-ng + lame (real synthesis, same sentences):');
  console.log(row('  synthesis alone, called directly', direct));
  console.log(row('  sentence complete → audio event, 1 reply', spoken.delays));
  console.log(row('  … minus the direct median synthesis', spoken.delays, directMedian));
  console.log(row('  first delta → first audio event, 1 reply', spoken.firstAudio));
}

await main();
