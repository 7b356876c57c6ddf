/**
 * Audio links that work on every instance: a copy of each synthesized segment in Redis, so the
 * audio URL of a reply resumed through another instance (or balanced to one) still plays.
 *
 * Contract: `mirror(stored)` writes the segment under `<prefix>audio:<id>` as a hash (format,
 * duration, expiry, bytes) that Redis expires at the audio's own expiry; it is fire-and-forget —
 * the instance that synthesized the audio serves it from memory anyway, so a failed copy is logged
 * and only costs other instances that one segment. `get(id)` reads a copy back (undefined when
 * Redis has none, or cannot be reached), with the same fields as the in-memory store's entries.
 * Memory in Redis is bounded by the expiry: AUDIO_TTL_SECONDS of synthesized audio at most.
 */
import { RESP_TYPES } from '@redis/client';
import type { Clock } from '../clock.ts';
import type { Logger } from '../logger.ts';
import type { RedisClient } from '../redis/redis-connections.ts';
import type { StoredAudio } from './audio-store.ts';
import { AUDIO_CONTENT_TYPES, type AudioFormat } from './tts-provider.ts';

export interface RedisAudioMirrorOptions {
  readonly commands: RedisClient;
  readonly keyPrefix: string;
  readonly clock: Clock;
  readonly log: Logger;
}

export interface AudioMirror {
  mirror(stored: StoredAudio): void;
  get(id: string): Promise<StoredAudio | undefined>;
}

function isAudioFormat(value: string): value is AudioFormat {
  return Object.prototype.hasOwnProperty.call(AUDIO_CONTENT_TYPES, value);
}

export function createRedisAudioMirror(options: RedisAudioMirrorOptions): AudioMirror {
  const { commands, keyPrefix, clock, log } = options;
  const binary = commands.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
  const keyOf = (id: string) => `${keyPrefix}audio:${id}`;

  return {
    mirror(stored) {
      const key = keyOf(stored.id);
      const fields: Record<string, string | Buffer> = {
        format: stored.format,
        expiresAt: String(stored.expiresAt),
        audio: stored.audio,
        ...(stored.durationMs === undefined ? {} : { durationMs: String(stored.durationMs) }),
      };
      commands
        .multi()
        .hSet(key, fields)
        .pExpireAt(key, stored.expiresAt)
        .exec()
        .catch((error: unknown) => log.warn({ err: error }, 'could not copy a voice segment to Redis; only this instance can serve it'));
    },

    async get(id) {
      let hash: Record<string, Buffer>;
      try {
        hash = await binary.hGetAll(keyOf(id));
      } catch (error) {
        log.warn({ err: error }, 'could not read a voice segment from Redis');
        return undefined;
      }
      const audio = hash.audio;
      const format = hash.format?.toString('utf8') ?? '';
      const expiresAt = Number(hash.expiresAt?.toString('utf8'));
      if (audio === undefined || !isAudioFormat(format) || !Number.isFinite(expiresAt) || expiresAt <= clock.now()) return undefined;
      const durationMs = hash.durationMs === undefined ? undefined : Number(hash.durationMs.toString('utf8'));
      return {
        id,
        audio,
        format,
        contentType: AUDIO_CONTENT_TYPES[format],
        ...(durationMs === undefined || !Number.isFinite(durationMs) ? {} : { durationMs }),
        expiresAt,
      };
    },
  };
}
