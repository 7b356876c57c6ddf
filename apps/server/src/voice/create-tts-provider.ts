/**
 * Builds the configured TTS provider.
 *
 * Contract: `createTtsProvider(config, deps)` returns undefined for `VOICE_PROVIDER=off`, else the
 * provider with `unavailableReason` set when it cannot work (espeak-ng or lame missing) — the
 * server still starts, logs that reason once, and every voice segment is skipped with
 * `tts_unavailable` instead of failing chat. Environment is passed in, never read here.
 */
import type { Clock } from '../clock.ts';
import { createEspeakTts } from './espeak-tts.ts';
import { createOpenAISpeech } from './openai-speech.ts';
import type { TtsProvider } from './tts-provider.ts';
import type { VoiceConfig } from './voice-config.ts';
import { createYoudaoTts } from './youdao-tts.ts';

export interface TtsProviderDeps {
  readonly clock: Clock;
  /** The `PATH` to find espeak-ng and lame on (pass `process.env.PATH`). */
  readonly pathEnv: string | undefined;
}

export interface ConfiguredTtsProvider {
  readonly provider: TtsProvider;
  readonly unavailableReason: string | undefined;
}

export function createTtsProvider(config: VoiceConfig, deps: TtsProviderDeps): ConfiguredTtsProvider | undefined {
  const { provider } = config;
  switch (provider.kind) {
    case 'off':
      return undefined;
    case 'espeak': {
      const espeak = createEspeakTts({
        pathEnv: deps.pathEnv,
        chineseVoice: provider.chineseVoice,
        englishVoice: provider.englishVoice,
        speedWpm: provider.speedWpm,
        timeoutMs: config.timeoutMs,
        clock: deps.clock,
      });
      return { provider: espeak, unavailableReason: espeak.unavailableReason };
    }
    case 'youdao':
      return {
        provider: createYoudaoTts({
          appKey: provider.appKey,
          appSecret: provider.appSecret,
          baseUrl: provider.baseUrl,
          langType: provider.langType,
          timeoutMs: config.timeoutMs,
          clock: deps.clock,
        }),
        unavailableReason: undefined,
      };
    case 'openai':
      return {
        provider: createOpenAISpeech({ apiKey: provider.apiKey, baseURL: provider.baseURL, model: provider.model, timeoutMs: config.timeoutMs, clock: deps.clock }),
        unavailableReason: undefined,
      };
  }
}
