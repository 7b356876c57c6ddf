/**
 * Synthesized audio kept in memory for a while, so the mini-program's audio player can fetch each
 * segment by URL.
 *
 * Contract: `put` stores audio under a fresh random id (128 bits, base64url — unguessable, and the
 * URL is signed as well) until `ttlMs` from the injected clock's now; `get` returns it until then,
 * `undefined` after (or for an id never issued). Total audio bytes never exceed `maxBytes`: the
 * oldest entries are evicted to make room (every entry lives equally long, so the oldest is the
 * nearest to expiry), and an audio larger than `maxBytes` on its own is refused (`put` returns
 * undefined). Expired entries are dropped as `put` and `get` pass by; no timer runs.
 *
 * One process's memory: with several server instances the audio URL must reach the instance that
 * synthesized it (sticky sessions), or the store must move to shared storage.
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock.ts';
import { AUDIO_CONTENT_TYPES, type AudioFormat, type SynthesizedAudio } from './tts-provider.ts';

export interface StoredAudio {
  readonly id: string;
  readonly audio: Buffer;
  readonly format: AudioFormat;
  readonly contentType: string;
  readonly durationMs?: number;
  /** Milliseconds since the epoch on the store's clock. */
  readonly expiresAt: number;
}

/** Where a reply's synthesized segments are kept for their URLs (the store, or the store and a mirror). */
export interface AudioSink {
  put(synthesized: SynthesizedAudio): StoredAudio | undefined;
}

/** Where the audio route finds a segment: this process's store, or a copy another instance made. */
export interface AudioSource {
  get(id: string): StoredAudio | undefined | Promise<StoredAudio | undefined>;
  remainingMs(entry: StoredAudio): number;
}

export interface AudioStoreOptions {
  readonly ttlMs: number;
  readonly maxBytes: number;
  readonly clock: Clock;
  readonly randomId?: () => string;
}

export function randomAudioId(): string {
  return randomBytes(16).toString('base64url');
}

export class AudioStore implements AudioSink, AudioSource {
  readonly #ttlMs: number;
  readonly #maxBytes: number;
  readonly #clock: Clock;
  readonly #randomId: () => string;
  /** Insertion order is expiry order, because every entry lives `ttlMs`. */
  readonly #entries = new Map<string, StoredAudio>();
  #bytes = 0;

  constructor(options: AudioStoreOptions) {
    this.#ttlMs = options.ttlMs;
    this.#maxBytes = options.maxBytes;
    this.#clock = options.clock;
    this.#randomId = options.randomId ?? randomAudioId;
  }

  get size(): number {
    return this.#entries.size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  put(synthesized: SynthesizedAudio): StoredAudio | undefined {
    const size = synthesized.audio.length;
    if (size > this.#maxBytes) return undefined;
    const now = this.#clock.now();
    this.#dropExpired(now);
    while (this.#bytes + size > this.#maxBytes) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#delete(oldest);
    }
    let id = this.#randomId();
    while (this.#entries.has(id)) id = this.#randomId();
    const stored: StoredAudio = {
      id,
      audio: synthesized.audio,
      format: synthesized.format,
      contentType: AUDIO_CONTENT_TYPES[synthesized.format],
      ...(synthesized.durationMs === undefined ? {} : { durationMs: synthesized.durationMs }),
      expiresAt: now + this.#ttlMs,
    };
    this.#entries.set(id, stored);
    this.#bytes += size;
    return stored;
  }

  /** How long `entry` has left, by the store's clock (0 once expired). */
  remainingMs(entry: StoredAudio): number {
    return Math.max(0, entry.expiresAt - this.#clock.now());
  }

  get(id: string): StoredAudio | undefined {
    const now = this.#clock.now();
    this.#dropExpired(now);
    return this.#entries.get(id);
  }

  #dropExpired(now: number): void {
    for (const [id, entry] of this.#entries) {
      if (entry.expiresAt > now) return;
      this.#delete(id);
    }
  }

  #delete(id: string): void {
    const entry = this.#entries.get(id);
    if (entry === undefined) return;
    this.#entries.delete(id);
    this.#bytes -= entry.audio.length;
  }
}
