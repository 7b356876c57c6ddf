/**
 * The server's voice: one configured speech provider, one audio store, one URL signer and one
 * synthesis cache, shared by every spoken reply.
 *
 * Contract: `createVoiceService` returns undefined when voice is off (`VOICE_PROVIDER=off`); else
 * a service whose `unavailableReason` says why replies cannot be spoken (espeak-ng or lame
 * missing: the server still starts and chat still works, replies that ask for voice are answered
 * with `start.voice: false`). `open()` gives one reply's `VoiceReply`, tied to the reply's abort
 * signal, in the voice the request named or the configured one. The audio URL secret is
 * `AUDIO_URL_SECRET`, or else derived from the token secret with a label, so instances that share
 * `TOKEN_SECRET` verify each other's links and an audio link is never a valid session token.
 *
 * The audio store is this process's memory; with a `mirror` (Redis) every segment is copied there
 * too, so an audio URL works on whichever instance a load balancer sends it to.
 */
import { createHmac } from 'node:crypto';
import { WxstreamError } from '@wxstream/protocol';
import type { Clock } from '../clock.ts';
import type { Logger } from '../logger.ts';
import { AudioStore, type AudioSink, type AudioSource } from './audio-store.ts';
import type { AudioMirror } from './redis-audio-mirror.ts';
import { createTtsProvider } from './create-tts-provider.ts';
import { ESPEAK_PROGRAM, findProgram } from './espeak-tts.ts';
import { listEspeakVoices, offeredVoices, type VoiceCatalogueSource } from './offered-voices.ts';
import { createAudioUrlSigner, type AudioUrlSigner } from './signed-audio-url.ts';
import { SynthesisCache } from './synthesis-cache.ts';
import type { TtsProvider } from './tts-provider.ts';
import type { VoiceConfig, VoiceProviderConfig } from './voice-config.ts';
import { VoiceReply } from './voice-reply.ts';

export interface VoiceService {
  readonly provider: TtsProvider;
  /** Set when the provider cannot work here; replies are then not spoken. */
  readonly unavailableReason: string | undefined;
  /** What the audio route serves from: this process's audio, then the mirror's copies. */
  readonly audio: AudioSource;
  readonly signer: AudioUrlSigner;
  /** How long a reply whose text is complete waits for its last segments (`VOICE_FINISH_TIMEOUT_MS`). */
  readonly finishTimeoutMs: number;
  /** Whether a request may name this voice (`offered-voices.ts`); otherwise it is 400 `invalid_voice`. */
  offersVoice(name: string): boolean;
  open(options: { voiceName: string | undefined; signal: AbortSignal; log: Logger }): VoiceReply;
}

export interface VoiceServiceDeps {
  readonly clock: Clock;
  /** The session-token secret, from which the audio URL secret is derived when none is set. */
  readonly tokenSecret: string | Buffer;
  /** The `PATH` espeak-ng and lame are looked up on. */
  readonly pathEnv: string | undefined;
  /** Replaces the configured provider (benchmarks and tests with a provider of known behaviour). */
  readonly provider?: TtsProvider;
  /** With several instances (Redis): every segment is copied there so any instance serves its URL. */
  readonly mirror?: AudioMirror;
}

/** 400 `invalid_voice` when a reply that will be spoken names a voice its provider does not offer. */
export function assertVoiceOffered(speaker: VoiceService | undefined, voiceName: string | undefined): void {
  if (speaker === undefined || voiceName === undefined || speaker.offersVoice(voiceName)) return;
  throw new WxstreamError('invalid_voice', `The voice "${voiceName}" is not one ${speaker.provider.id} offers here`);
}

export function deriveAudioUrlSecret(tokenSecret: string | Buffer): string {
  return createHmac('sha256', tokenSecret).update('wxstream audio URL signing key v1').digest('base64url');
}

export function createVoiceService(config: VoiceConfig, deps: VoiceServiceDeps): VoiceService | undefined {
  let provider: TtsProvider;
  let unavailableReason: string | undefined;
  let catalogue: VoiceCatalogueSource = { kind: 'other' };
  if (deps.provider !== undefined) {
    provider = deps.provider;
  } else {
    const configured = createTtsProvider(config, { clock: deps.clock, pathEnv: deps.pathEnv });
    if (configured === undefined) return undefined;
    provider = configured.provider;
    unavailableReason = configured.unavailableReason;
    catalogue = catalogueOf(config.provider, deps.pathEnv);
  }
  const offered = offeredVoices(catalogue, { defaultVoice: provider.defaultVoice, configured: [config.voice, ...config.extraVoices] });
  const store = new AudioStore({ ttlMs: config.audio.ttlSeconds * 1000, maxBytes: config.audio.maxBytes, clock: deps.clock });
  const signer = createAudioUrlSigner({ secret: config.audioUrlSecret ?? deriveAudioUrlSecret(deps.tokenSecret), clock: deps.clock });
  const { mirror } = deps;
  const sink: AudioSink =
    mirror === undefined
      ? store
      : {
          put(synthesized) {
            const stored = store.put(synthesized);
            if (stored !== undefined) mirror.mirror(stored);
            return stored;
          },
        };
  const audio: AudioSource =
    mirror === undefined ? store : { get: async (id) => store.get(id) ?? (await mirror.get(id)), remainingMs: (entry) => store.remainingMs(entry) };
  const cache = config.cache.maxEntries > 0 && config.cache.maxBytes > 0 ? new SynthesisCache(config.cache) : undefined;

  return {
    provider,
    unavailableReason,
    audio,
    signer,
    finishTimeoutMs: config.finishTimeoutMs,
    offersVoice: (name) => offered.has(name),
    open({ voiceName, signal, log }) {
      const voice = voiceName ?? config.voice;
      return new VoiceReply({
        provider,
        ...(voice === undefined ? {} : { voice }),
        concurrency: config.concurrency,
        ...(cache === undefined ? {} : { cache }),
        store: sink,
        signer,
        clock: deps.clock,
        segmenter: config.segment,
        stallFlushMs: config.stallFlushMs,
        sentenceEndFlushMs: config.sentenceEndFlushMs,
        signal,
        onAttemptFailed: (segment, error, attempt) => {
          // The text is the user's conversation: log where it failed, never what it said.
          log.warn({ err: error, segment: segment.index, attempt, provider: provider.id }, 'speech synthesis failed for a segment');
        },
      });
    },
  };
}

/** Where the voices a provider offers come from; espeak-ng is asked once, here, at start. */
function catalogueOf(provider: VoiceProviderConfig, pathEnv: string | undefined): VoiceCatalogueSource {
  switch (provider.kind) {
    case 'espeak':
      return { kind: 'espeak', listed: listEspeakVoices(findProgram(ESPEAK_PROGRAM, pathEnv)) };
    case 'openai':
      return { kind: 'openai', officialApi: provider.baseURL === undefined || new URL(provider.baseURL).hostname === 'api.openai.com' };
    case 'youdao':
      return { kind: 'youdao' };
    default:
      return { kind: 'other' };
  }
}
