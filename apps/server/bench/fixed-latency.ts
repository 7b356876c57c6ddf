/**
 * Providers that take a fixed time, for benchmarks that separate our overhead from a provider's:
 * a speech provider answering silent MP3 frames after `latencyMs`, and a transcriber answering a
 * fixed text after `latencyMs`. Both give up when the caller aborts.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Transcriber } from '../src/transcription/transcriber.ts';
import type { SynthesizedAudio, TtsProvider } from '../src/voice/tts-provider.ts';
import { SILENT_FRAME_MS, silentMp3 } from '../test/support/fake-youdao-server.ts';

/** Silent MPEG frames: a valid MP3 the audio store keeps like any other. */
const SILENT_MP3 = silentMp3(20);

export function fixedLatencySpeech(latencyMs: number): TtsProvider {
  return {
    id: `fixed-${latencyMs}ms`,
    defaultVoice: 'v',
    synthesize: async ({ signal }): Promise<SynthesizedAudio> => {
      await sleep(latencyMs, undefined, signal === undefined ? {} : { signal });
      return { audio: SILENT_MP3, format: 'mp3', durationMs: Math.round(20 * SILENT_FRAME_MS) };
    },
  };
}

export function fixedLatencyTranscriber(latencyMs: number, text: string): Transcriber {
  return {
    id: `fixed-${latencyMs}ms`,
    languages: [],
    formats: ['mp3', 'aac', 'm4a', 'wav'],
    unavailableReason: undefined,
    transcribe: async ({ signal }) => {
      await sleep(latencyMs, undefined, signal === undefined ? {} : { signal });
      return { text };
    },
  };
}
