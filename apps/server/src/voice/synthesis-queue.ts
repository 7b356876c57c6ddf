/**
 * Synthesizes one reply's segments a few at a time and hands the results over strictly in order.
 *
 * Contract:
 * - `add(segment)` takes segments with indices 0, 1, 2 … in that order; `end()` says no more will
 *   come. `next()` (or `for await`) yields exactly one outcome per segment, in index order, even
 *   when later syntheses finish first; it yields `undefined` / ends once every segment is
 *   delivered after `end()`, or at once after `cancel()`.
 * - Bounded look-ahead: segment i starts only while i < delivered + `concurrency`, so at most
 *   `concurrency` syntheses run and at most that many results wait for a slow consumer.
 * - A failed synthesis is tried once more when its error is retryable (or unknown); when it still
 *   fails the outcome is `{ skipped: true, code }` so playback moves on instead of hanging. After
 *   a `tts_unavailable` (the provider cannot work at all) the remaining segments are skipped with
 *   that code without calling the provider again.
 * - `cancel()` (or the `signal` option aborting — the user pressed stop) aborts every synthesis in
 *   flight through its signal, starts nothing more, and drops results that arrive later.
 * - With a `cache`, a segment whose (provider, voice, text) was synthesized before is answered from
 *   it (`cached: true`), and successful syntheses are stored.
 */
import { synthesisCacheKey, type SynthesisCache } from './synthesis-cache.ts';
import type { SpeechSegment } from './speech-segmenter.ts';
import type { SynthesizedAudio, TtsProvider } from './tts-provider.ts';
import { isTtsError, type TtsErrorCode } from './voice-errors.ts';

export type SynthesisOutcome =
  | {
      readonly index: number;
      readonly text: string;
      readonly skipped: false;
      readonly audio: SynthesizedAudio;
      readonly cached: boolean;
      /** Provider calls made for this segment: 0 from the cache, 2 after a retry. */
      readonly attempts: number;
    }
  | {
      readonly index: number;
      readonly text: string;
      readonly skipped: true;
      readonly code: TtsErrorCode;
      /** For logs: the provider's reason. Never shown to users (they get the code's message). */
      readonly message: string;
      readonly attempts: number;
    };

export interface SynthesisQueueOptions {
  readonly provider: TtsProvider;
  /** Defaults to the provider's default voice. */
  readonly voice?: string;
  /** Segments synthesized ahead of delivery, at least 1. */
  readonly concurrency: number;
  readonly cache?: SynthesisCache;
  /** Aborting it cancels the queue (tie it to the reply's stop signal). */
  readonly signal?: AbortSignal;
  /** Called for every failed attempt, retried or not, for logging. */
  readonly onAttemptFailed?: (segment: SpeechSegment, error: unknown, attempt: number) => void;
}

const MAX_ATTEMPTS = 2;

export class SynthesisQueue implements AsyncIterable<SynthesisOutcome> {
  readonly #provider: TtsProvider;
  readonly #voice: string;
  readonly #concurrency: number;
  readonly #cache: SynthesisCache | undefined;
  readonly #onAttemptFailed: SynthesisQueueOptions['onAttemptFailed'];
  readonly #controller = new AbortController();
  readonly #externalSignal: AbortSignal | undefined;
  readonly #onExternalAbort = () => this.cancel(this.#externalSignal?.reason);
  /** Segments added so far, by index. */
  readonly #segments: SpeechSegment[] = [];
  /** Finished outcomes not yet delivered, by index. */
  readonly #ready = new Map<number, SynthesisOutcome>();
  #started = 0;
  #delivered = 0;
  #ended = false;
  #cancelled = false;
  /** Set by the first `tts_unavailable`: later segments are skipped with it. */
  #unavailable: { readonly message: string } | undefined;
  #waiters: ((outcome: SynthesisOutcome | undefined) => void)[] = [];
  #settling = false;

  constructor(options: SynthesisQueueOptions) {
    if (!Number.isSafeInteger(options.concurrency) || options.concurrency < 1) {
      throw new RangeError(`concurrency must be an integer ≥ 1, got ${options.concurrency}`);
    }
    this.#provider = options.provider;
    this.#voice = options.voice ?? options.provider.defaultVoice;
    this.#concurrency = options.concurrency;
    this.#cache = options.cache;
    this.#onAttemptFailed = options.onAttemptFailed;
    this.#externalSignal = options.signal;
    if (options.signal?.aborted === true) this.cancel(options.signal.reason);
    else options.signal?.addEventListener('abort', this.#onExternalAbort, { once: true });
  }

  get cancelled(): boolean {
    return this.#cancelled;
  }

  /** Syntheses started and not yet finished. */
  get inFlight(): number {
    return this.#started - this.#delivered - this.#ready.size;
  }

  add(segment: SpeechSegment): void {
    if (this.#cancelled) return;
    if (this.#ended) throw new Error('SynthesisQueue: add after end');
    if (segment.index !== this.#segments.length) {
      throw new RangeError(`SynthesisQueue: expected segment ${this.#segments.length}, got ${segment.index}`);
    }
    this.#segments.push(segment);
    this.#pump();
  }

  end(): void {
    this.#ended = true;
    this.#settleWaiters();
  }

  cancel(reason?: unknown): void {
    if (this.#cancelled) return;
    this.#cancelled = true;
    this.#controller.abort(reason ?? new Error('synthesis cancelled'));
    this.#ready.clear();
    this.#release();
    this.#settleWaiters();
  }

  /** The next outcome in index order; undefined when there will be no more. */
  next(): Promise<SynthesisOutcome | undefined> {
    // Earlier callers still waiting are served first, in the order they asked.
    if (this.#waiters.length === 0) {
      const now = this.#take();
      if (now !== undefined || this.#finished()) return Promise.resolve(now);
    }
    return new Promise((resolve) => {
      this.#waiters.push(resolve);
      this.#settleWaiters();
    });
  }

  async *[Symbol.asyncIterator](): AsyncIterator<SynthesisOutcome> {
    for (;;) {
      const outcome = await this.next();
      if (outcome === undefined) return;
      yield outcome;
    }
  }

  #finished(): boolean {
    return this.#cancelled || (this.#ended && this.#delivered >= this.#segments.length);
  }

  #take(): SynthesisOutcome | undefined {
    if (this.#cancelled) return undefined;
    const outcome = this.#ready.get(this.#delivered);
    if (outcome === undefined) return undefined;
    this.#ready.delete(this.#delivered);
    this.#delivered++;
    this.#pump();
    if (this.#finished()) this.#release();
    return outcome;
  }

  #settleWaiters(): void {
    // Taking an outcome starts the next synthesis, which a cache hit finishes synchronously and
    // which would call back in here; the loop below picks that outcome up instead.
    if (this.#settling) return;
    this.#settling = true;
    try {
      while (this.#waiters.length > 0) {
        const outcome = this.#take();
        if (outcome === undefined && !this.#finished()) return;
        this.#waiters.shift()?.(outcome);
      }
    } finally {
      this.#settling = false;
    }
  }

  #release(): void {
    this.#externalSignal?.removeEventListener('abort', this.#onExternalAbort);
  }

  #pump(): void {
    while (!this.#cancelled && this.#started < this.#segments.length && this.#started < this.#delivered + this.#concurrency) {
      const segment = this.#segments[this.#started];
      this.#started++;
      if (segment !== undefined) this.#start(segment);
    }
  }

  #finish(outcome: SynthesisOutcome): void {
    if (this.#cancelled) return;
    this.#ready.set(outcome.index, outcome);
    this.#settleWaiters();
  }

  #start(segment: SpeechSegment): void {
    const key = synthesisCacheKey(this.#provider.id, this.#voice, segment.text);
    const cached = this.#cache?.get(key);
    if (cached !== undefined) {
      this.#finish({ index: segment.index, text: segment.text, skipped: false, audio: cached, cached: true, attempts: 0 });
      return;
    }
    if (this.#unavailable !== undefined) {
      this.#finish({ index: segment.index, text: segment.text, skipped: true, code: 'tts_unavailable', message: this.#unavailable.message, attempts: 0 });
      return;
    }
    void this.#synthesize(segment, key);
  }

  async #synthesize(segment: SpeechSegment, key: string): Promise<void> {
    const signal = this.#controller.signal;
    let lastError: unknown;
    let attempt = 0;
    while (attempt < MAX_ATTEMPTS && !this.#cancelled && this.#unavailable === undefined) {
      attempt++;
      try {
        const audio = await this.#provider.synthesize({ text: segment.text, voice: this.#voice, signal });
        this.#cache?.set(key, audio);
        this.#finish({ index: segment.index, text: segment.text, skipped: false, audio, cached: false, attempts: attempt });
        return;
      } catch (error) {
        if (this.#cancelled) return;
        lastError = error;
        this.#onAttemptFailed?.(segment, error, attempt);
        if (isTtsError(error) && error.code === 'tts_unavailable') this.#unavailable = { message: error.message };
        if (isTtsError(error) && !error.retryable) break;
      }
    }
    if (this.#cancelled) return;
    const code: TtsErrorCode = isTtsError(lastError) ? lastError.code : this.#unavailable !== undefined ? 'tts_unavailable' : 'tts_failed';
    const message = lastError instanceof Error ? lastError.message : this.#unavailable?.message ?? String(lastError);
    this.#finish({ index: segment.index, text: segment.text, skipped: true, code, message, attempts: attempt });
  }
}
