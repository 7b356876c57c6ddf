/**
 * Voice input as configured (`STT_PROVIDER`), with its limits in Redis when Redis is shared; the
 * start-up log says whether it is off, unavailable here (and why), or on — and, for the offline
 * recogniser, that it hears English only.
 */
import type { Clock } from '../clock.ts';
import type { Logger } from '../logger.ts';
import type { RedisConnections } from '../redis/redis-connections.ts';
import type { ServerConfig } from '../server-config.ts';
import type { Transcriber } from '../transcription/transcriber.ts';
import { createTranscriptionService, type TranscriptionService } from '../transcription/transcription-service.ts';

export interface TranscriptionStartup {
  config: ServerConfig;
  clock: Clock;
  logger: Logger;
  redis: RedisConnections | undefined;
  /** Transcribes instead of the configured provider (benchmarks, tests). */
  transcriber: Transcriber | undefined;
}

export function startTranscription({ config, clock, logger, redis, transcriber }: TranscriptionStartup): TranscriptionService {
  const service = createTranscriptionService(config.transcription, {
    clock,
    pathEnv: process.env.PATH,
    utcOffsetMinutes: config.limits.quotaUtcOffsetMinutes,
    ...(redis === undefined ? {} : { redis: { client: redis.commands, keyPrefix: config.redis.keyPrefix } }),
    ...(transcriber === undefined ? {} : { transcriber }),
  });
  logTranscription(service, logger);
  return service;
}

/** The start-up line: which provider listens, in which languages, or why voice input is unavailable. */
function logTranscription(service: TranscriptionService, logger: Logger): void {
  const { transcriber, config } = service;
  if (transcriber === undefined) {
    logger.info({ voiceInput: 'off' }, 'voice input is off (STT_PROVIDER=off)');
    return;
  }
  if (service.unavailableReason !== undefined) {
    logger.warn({ voiceInput: transcriber.id, reason: service.unavailableReason }, 'voice input is unavailable: POST /api/transcriptions answers stt_unavailable');
    return;
  }
  const languages = transcriber.languages.length === 0 ? 'any the provider knows' : transcriber.languages.join(', ');
  const fields = { voiceInput: transcriber.id, languages, formats: transcriber.formats.join(', '), maxDurationSeconds: config.maxDurationMs / 1000 };
  if (transcriber.id === 'pocketsphinx') logger.info(fields, 'voice input is on with the offline recogniser: ENGLISH ONLY (set STT_PROVIDER=openai or youdao for Chinese)');
  else logger.info(fields, 'voice input is on');
  if (config.debugAudioDir !== undefined) {
    logger.warn({ debugAudioDir: config.debugAudioDir }, 'STT_DEBUG_AUDIO_DIR is set: every recording received is KEPT there (debugging only)');
  }
}
