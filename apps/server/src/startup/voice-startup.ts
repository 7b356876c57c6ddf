/**
 * Voice replies as configured (`VOICE_PROVIDER`), with the Redis mirror of their audio when Redis is
 * shared; the start-up log says whether they are off, unavailable here (and why), or on.
 */
import type { Clock } from '../clock.ts';
import type { Logger } from '../logger.ts';
import type { RedisConnections } from '../redis/redis-connections.ts';
import type { ServerConfig } from '../server-config.ts';
import { createRedisAudioMirror } from '../voice/redis-audio-mirror.ts';
import type { TtsProvider } from '../voice/tts-provider.ts';
import { createVoiceService, type VoiceService } from '../voice/voice-service.ts';

export interface VoiceStartup {
  config: ServerConfig;
  clock: Clock;
  logger: Logger;
  tokenSecret: string | Buffer;
  redis: RedisConnections | undefined;
  /** Speaks instead of the configured provider (benchmarks, tests). */
  ttsProvider: TtsProvider | undefined;
}

export function startVoice({ config, clock, logger, tokenSecret, redis, ttsProvider }: VoiceStartup): VoiceService | undefined {
  const voice = createVoiceService(config.voice, {
    clock,
    tokenSecret,
    pathEnv: process.env.PATH,
    ...(ttsProvider === undefined ? {} : { provider: ttsProvider }),
    ...(redis === undefined ? {} : { mirror: createRedisAudioMirror({ commands: redis.commands, keyPrefix: config.redis.keyPrefix, clock, log: logger }) }),
  });
  if (voice === undefined) logger.info({ voice: 'off' }, 'voice replies are off (VOICE_PROVIDER=off)');
  else if (voice.unavailableReason !== undefined) {
    logger.warn({ voice: voice.provider.id, reason: voice.unavailableReason }, 'voice replies are unavailable: replies that ask for voice are not spoken');
  } else logger.info({ voice: voice.provider.id, defaultVoice: voice.provider.defaultVoice }, 'voice replies are on');
  return voice;
}
