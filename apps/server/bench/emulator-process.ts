/**
 * Benchmark child: the OpenAI-compatible emulator in its own process. Reports its base URL over IPC.
 * Args: <deltas per stream> <ms between deltas> [<ms between deltas of a slow reply>, default 1000].
 * Scenario by the last user message:
 * - `hold`: one delta, then silence with the connection open — a reply in progress costing no CPU;
 * - `slow`: 1,000 deltas at the slow pace — a reply that streams for as long as a hold phase lasts;
 * - `pace <ms> <deltas>`: that many deltas that far apart, each stamped with its send time (the
 *   relay benchmark's levels: one emulator, several rates);
 * - anything else: the paced deltas, each stamped with its send time (`<epoch ms>|`).
 * IPC: `cpu` answers `process.cpuUsage()`; `clock` answers this process's epoch-ms clock (the one
 * the stamps use) read together with the machine's monotonic clock, so the load generator can
 * measure how far the two processes' epoch clocks disagree; `stop` closes and exits.
 */
import { performance } from 'node:perf_hooks';
import { startOpenAICompatibleEmulator } from '../src/offline-model/openai-compatible-emulator.ts';

const deltas = Number(process.argv[2] ?? 20);
const delayMs = Number(process.argv[3] ?? 100);
const slowDelayMs = Number(process.argv[4] ?? 1000);
const paced = {
  content: Array.from({ length: deltas }, (_, index) => `token${index} `),
  chunkDelayMs: delayMs,
  timestampContent: true,
};
const held = { content: ['held '], stallAfter: 2 };
const slow = { content: Array.from({ length: 1000 }, (_, index) => `slow${index} `), chunkDelayMs: slowDelayMs };
const PACE = /^pace (\d+) (\d+)$/;
const pacedScenarios = new Map<string, typeof paced>();
/** One scenario object per distinct `pace` message, made once. */
function pacedBy(message: string): typeof paced | undefined {
  const match = PACE.exec(message);
  if (match === null) return undefined;
  let scenario = pacedScenarios.get(message);
  if (scenario === undefined) {
    scenario = { content: Array.from({ length: Number(match[2]) }, (_, index) => `token${index} `), chunkDelayMs: Number(match[1]), timestampContent: true };
    pacedScenarios.set(message, scenario);
  }
  return scenario;
}
const emulator = await startOpenAICompatibleEmulator({
  host: '127.0.0.1',
  maxRecorded: 0,
  scenario: (request) => {
    const last = request.messages.at(-1)?.content;
    return last === 'hold' ? held : last === 'slow' ? slow : ((typeof last === 'string' ? pacedBy(last) : undefined) ?? paced);
  },
});
process.send?.({ type: 'ready', baseURL: emulator.baseURL });
process.on('message', (message: { type: string }) => {
  if (message.type === 'cpu') process.send?.({ type: 'cpu', cpu: process.cpuUsage() });
  if (message.type === 'clock') process.send?.({ type: 'clock', epochMs: performance.timeOrigin + performance.now(), monotonicMs: Number(process.hrtime.bigint()) / 1e6 });
  if (message.type === 'stop') void emulator.close().then(() => process.exit(0));
});
