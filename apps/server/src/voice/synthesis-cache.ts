/**
 * Recently synthesized audio, shared by every reply, so a repeated sentence ("好的。") or a
 * replayed reply is not paid for twice.
 *
 * Contract: a least-recently-used map from (provider, voice, text) to audio, bounded both by
 * entries and by audio bytes; `get` refreshes an entry, `set` evicts the least recently used
 * entries until both bounds hold, and an audio larger than `maxBytes` on its own is not kept.
 * Keys join their parts with a separator that cannot occur in provider ids or voice names, so
 * distinct triples never collide.
 */
import type { SynthesizedAudio } from './tts-provider.ts';

export interface SynthesisCacheOptions {
  readonly maxEntries: number;
  readonly maxBytes: number;
}

export function synthesisCacheKey(providerId: string, voice: string, text: string): string {
  return `${providerId}\u0000${voice}\u0000${text}`;
}

export class SynthesisCache {
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  /** Map iteration order is insertion order: the first key is the least recently used. */
  readonly #entries = new Map<string, SynthesizedAudio>();
  #bytes = 0;

  constructor(options: SynthesisCacheOptions) {
    this.#maxEntries = options.maxEntries;
    this.#maxBytes = options.maxBytes;
  }

  get size(): number {
    return this.#entries.size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get(key: string): SynthesizedAudio | undefined {
    const audio = this.#entries.get(key);
    if (audio === undefined) return undefined;
    this.#entries.delete(key);
    this.#entries.set(key, audio);
    return audio;
  }

  set(key: string, audio: SynthesizedAudio): void {
    const previous = this.#entries.get(key);
    if (previous !== undefined) {
      this.#entries.delete(key);
      this.#bytes -= previous.audio.length;
    }
    if (audio.audio.length > this.#maxBytes || this.#maxEntries === 0) return;
    this.#entries.set(key, audio);
    this.#bytes += audio.audio.length;
    while (this.#entries.size > this.#maxEntries || this.#bytes > this.#maxBytes) {
      const oldest = this.#entries.entries().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest[0]);
      this.#bytes -= oldest[1].audio.length;
    }
  }
}
