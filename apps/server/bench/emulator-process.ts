/**
 * Benchmark child: the OpenAI-compatible emulator in its own process, streaming content deltas
 * stamped with their send time (or, for the message `hold`, one delta and then silence). Reports its base URL over IPC; exits when the parent says `stop`.
 * Args: <deltas per stream> <ms between deltas>.
 */
import { startOpenAICompatibleEmulator } from '../src/offline-model/openai-compatible-emulator.ts';

const deltas = Number(process.argv[2] ?? 20);
const delayMs = Number(process.argv[3] ?? 100);
const paced = {
  content: Array.from({ length: deltas }, (_, index) => `token${index} `),
  chunkDelayMs: delayMs,
  timestampContent: true,
};
// "hold": one delta, then silence with the connection open — a reply in progress that costs no CPU.
const held = { content: ['held '], stallAfter: 2 };
const emulator = await startOpenAICompatibleEmulator({
  host: '127.0.0.1',
  maxRecorded: 0,
  scenario: (request) => (request.messages.at(-1)?.content === 'hold' ? held : paced),
});
process.send?.({ type: 'ready', baseURL: emulator.baseURL });
process.on('message', (message: { type: string }) => {
  if (message.type === 'stop') void emulator.close().then(() => process.exit(0));
});
