/**
 * One reply's voice: the streamed answer text goes in delta by delta, playable segments come out
 * in order, each with a signed audio URL — the piece the chat route wires in.
 *
 * Contract:
 * - `push(delta)` takes the reply's answer text (markdown) as it streams; reasoning must never be
 *   pushed. `end()` after the last delta; `stop(reason)` when the reply is stopped or the client
 *   goes away — in-flight syntheses are aborted and iteration ends.
 * - `next()` / `for await` yields one result per segment, strictly in index order: either
 *   `{ skipped: false, url, durationMs }` (audio kept in the store, `url` signed until it expires)
 *   or `{ skipped: true, code }` so the player moves on. It ends after the last segment following
 *   `end()`, or at once after `stop()`.
 * - Stall flush: when `stallFlushMs` > 0 and no delta has arrived for that long while text is
 *   pending, the pending text is released as a segment (see `SpeechSegmenter.flushStalled`), so a
 *   model pausing mid-sentence does not hold speech back. The timer runs on the injected clock and
 *   one timer at most is armed at a time.
 * - Sentence-end flush: when `sentenceEndFlushMs` > 0 and the pending text ends with a complete
 *   Chinese sentence (`。！？；…`), it is released after that shorter quiet — the segmenter only
 *   knows a sentence is over when the next character arrives (a closing quote may follow), and a
 *   model that pauses after a full stop should not hold that sentence back for a whole stall.
 */
import type { Clock, TimerHandle } from '../clock.ts';
import type { AudioSink } from './audio-store.ts';
import type { AudioUrlSigner } from './signed-audio-url.ts';
import { SpeechSegmenter, type SpeechSegment, type SpeechSegmenterOptions } from './speech-segmenter.ts';
import type { SynthesisCache } from './synthesis-cache.ts';
import { SynthesisQueue } from './synthesis-queue.ts';
import type { AudioFormat, TtsProvider } from './tts-provider.ts';
import type { TtsErrorCode } from './voice-errors.ts';

export type VoiceSegmentResult =
  | {
      readonly index: number;
      readonly text: string;
      readonly skipped: false;
      /** Path and query of the signed audio URL; prefix the server's public origin. */
      readonly url: string;
      readonly format: AudioFormat;
      readonly durationMs?: number;
    }
  | { readonly index: number; readonly text: string; readonly skipped: true; readonly code: TtsErrorCode };

export interface VoiceReplyOptions {
  readonly provider: TtsProvider;
  readonly voice?: string;
  readonly concurrency: number;
  readonly cache?: SynthesisCache;
  readonly store: AudioSink;
  readonly signer: AudioUrlSigner;
  readonly clock: Clock;
  readonly segmenter?: SpeechSegmenterOptions;
  /** Quiet period after which pending text is spoken anyway; 0 never. */
  readonly stallFlushMs: number;
  /** Shorter quiet period for pending text that ends a sentence; 0 (the default) waits like any other. */
  readonly sentenceEndFlushMs?: number;
  readonly signal?: AbortSignal;
  readonly onAttemptFailed?: (segment: SpeechSegment, error: unknown, attempt: number) => void;
}

export class VoiceReply implements AsyncIterable<VoiceSegmentResult> {
  readonly #segmenter: SpeechSegmenter;
  readonly #queue: SynthesisQueue;
  readonly #store: AudioSink;
  readonly #signer: AudioUrlSigner;
  readonly #clock: Clock;
  readonly #stallFlushMs: number;
  readonly #sentenceEndFlushMs: number;
  #lastDeltaAt = 0;
  #stallTimer: TimerHandle | undefined;
  /** When the armed timer fires, on the clock. */
  #timerDueAt = 0;
  #ended = false;

  constructor(options: VoiceReplyOptions) {
    this.#segmenter = new SpeechSegmenter(options.segmenter);
    this.#queue = new SynthesisQueue({
      provider: options.provider,
      ...(options.voice === undefined ? {} : { voice: options.voice }),
      concurrency: options.concurrency,
      ...(options.cache === undefined ? {} : { cache: options.cache }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      ...(options.onAttemptFailed === undefined ? {} : { onAttemptFailed: options.onAttemptFailed }),
    });
    this.#store = options.store;
    this.#signer = options.signer;
    this.#clock = options.clock;
    this.#stallFlushMs = options.stallFlushMs;
    this.#sentenceEndFlushMs = options.sentenceEndFlushMs ?? 0;
    options.signal?.addEventListener('abort', () => this.#disarm(), { once: true });
  }

  push(delta: string): void {
    if (this.#ended || this.#queue.cancelled) return;
    this.#enqueue(this.#segmenter.push(delta));
    this.#lastDeltaAt = this.#clock.now();
    this.#schedule();
  }

  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#disarm();
    if (this.#queue.cancelled) return;
    this.#enqueue(this.#segmenter.flush());
    this.#queue.end();
  }

  stop(reason?: unknown): void {
    this.#ended = true;
    this.#disarm();
    this.#queue.cancel(reason);
  }

  async next(): Promise<VoiceSegmentResult | undefined> {
    const outcome = await this.#queue.next();
    if (outcome === undefined) return undefined;
    if (outcome.skipped) return { index: outcome.index, text: outcome.text, skipped: true, code: outcome.code };
    const stored = this.#store.put(outcome.audio);
    if (stored === undefined) return { index: outcome.index, text: outcome.text, skipped: true, code: 'tts_failed' };
    return {
      index: outcome.index,
      text: outcome.text,
      skipped: false,
      url: this.#signer.url(stored.id, stored.expiresAt),
      format: stored.format,
      ...(stored.durationMs === undefined ? {} : { durationMs: stored.durationMs }),
    };
  }

  async *[Symbol.asyncIterator](): AsyncIterator<VoiceSegmentResult> {
    for (;;) {
      const result = await this.next();
      if (result === undefined) return;
      yield result;
    }
  }

  #enqueue(segments: readonly SpeechSegment[]): void {
    for (const segment of segments) this.#queue.add(segment);
  }

  /** The quiet after which the pending text is released, or undefined when it waits for more text. */
  #quietBeforeFlush(): number | undefined {
    if (!this.#segmenter.hasPending) return undefined;
    if (this.#sentenceEndFlushMs > 0 && this.#segmenter.pendingEndsSentence) {
      return this.#stallFlushMs > 0 ? Math.min(this.#sentenceEndFlushMs, this.#stallFlushMs) : this.#sentenceEndFlushMs;
    }
    return this.#stallFlushMs > 0 ? this.#stallFlushMs : undefined;
  }

  /** Keeps one timer armed for the earliest flush due; a later one is re-checked when it fires. */
  #schedule(): void {
    const quiet = this.#quietBeforeFlush();
    if (quiet === undefined) return;
    const dueAt = this.#lastDeltaAt + quiet;
    if (this.#stallTimer !== undefined && this.#timerDueAt <= dueAt) return;
    this.#disarm();
    this.#timerDueAt = dueAt;
    this.#stallTimer = this.#clock.setTimeout(() => this.#onStallTimer(), Math.max(0, dueAt - this.#clock.now()));
  }

  #disarm(): void {
    if (this.#stallTimer !== undefined) this.#clock.clearTimeout(this.#stallTimer);
    this.#stallTimer = undefined;
  }

  /** Deltas only ever bring the timer forward; on firing it checks whether the quiet really passed. */
  #onStallTimer(): void {
    this.#stallTimer = undefined;
    if (this.#ended || this.#queue.cancelled) return;
    const quiet = this.#quietBeforeFlush();
    if (quiet === undefined) return;
    if (this.#clock.now() - this.#lastDeltaAt < quiet) {
      this.#schedule();
      return;
    }
    this.#enqueue(this.#segmenter.flushStalled());
  }
}
