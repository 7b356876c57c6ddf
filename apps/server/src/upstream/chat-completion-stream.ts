/**
 * Reads a streamed chat completion's body — `text/event-stream` of JSON chunks ending in
 * `data: [DONE]` — straight from the Node stream it arrives as, with the project's own incremental
 * SSE parser (`@wxstream/client`), in place of the `openai` SDK's stream reader (a line decoder and
 * three async generators over a Web Stream per event).
 *
 * Contract — the SDK's semantics, so nothing the relay relies on changes:
 * - each `data` field is one JSON chunk, yielded in order; data starting with `[DONE]` ends the
 *   chunks (what follows is ignored); a chunk with an `error` member fails the stream with the SDK's
 *   `APIError` for it, after the chunks before it; data that is not JSON fails it with the
 *   `SyntaxError`;
 * - the body ending (with or without `[DONE]`) ends the iteration; the body failing fails it, except
 *   an abort (`AbortError`: our own signal), which ends it silently, as the SDK does — the relay
 *   reads the signal to decide how the reply ends; a body that closes before its end fails it;
 * - a consumer that stops early (`return`), and any failure, destroys the body: the provider sees
 *   the connection close and stops generating.
 * Backpressure: the body is paused while more than `HIGH_WATER` parsed chunks wait for the consumer.
 * A chunk that is waited for costs one promise; chunks already parsed are handed out without waiting.
 */
import type { Readable } from 'node:stream';
import { APIError } from 'openai';
import { SseParser, type SseMessage } from '@wxstream/client';
import type { UpstreamChunk } from './upstream-model.ts';

const HIGH_WATER = 64;

function isAbortError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'name' in error && error.name === 'AbortError';
}

class ChunkReader implements AsyncIterator<UpstreamChunk> {
  readonly #body: Readable;
  readonly #headers: Headers;
  readonly #parser: SseParser;
  #queue: UpstreamChunk[] = [];
  #head = 0;
  #sawDone = false;
  #ended = false;
  #failure: { error: unknown } | undefined;
  #waiter: { resolve: (result: IteratorResult<UpstreamChunk>) => void; reject: (error: unknown) => void } | undefined;

  constructor(body: Readable, headers: Headers) {
    this.#body = body;
    this.#headers = headers;
    this.#parser = new SseParser((message) => this.#onMessage(message));
    body.setEncoding('utf8');
    body.on('data', (text: string) => {
      this.#parser.feed(text);
      if (this.#queue.length - this.#head > HIGH_WATER) body.pause();
      this.#settle();
    });
    body.once('end', () => {
      this.#ended = true;
      this.#settle();
    });
    body.once('error', (error) => this.#fail(error));
    body.once('close', () => {
      if (!this.#ended) this.#fail(new Error('The provider closed the connection before the stream ended'));
    });
    // Torn down before anyone listened (an abort while the turn was being stored).
    if (body.destroyed) this.#fail(body.errored ?? new Error('The provider closed the connection before the stream ended'));
  }

  next(): Promise<IteratorResult<UpstreamChunk>> {
    const ready = this.#take();
    if (ready !== undefined) return ready;
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }

  return(): Promise<IteratorResult<UpstreamChunk>> {
    this.#ended = true;
    this.#queue = [];
    this.#head = 0;
    this.#body.destroy();
    return Promise.resolve({ done: true, value: undefined });
  }

  #onMessage(message: SseMessage): void {
    if (this.#sawDone || this.#failure !== undefined) return;
    if (message.data.startsWith('[DONE]')) {
      this.#sawDone = true;
      return;
    }
    let chunk: UpstreamChunk & { error?: unknown };
    try {
      chunk = JSON.parse(message.data) as UpstreamChunk & { error?: unknown };
    } catch (error) {
      this.#fail(error);
      return;
    }
    if (chunk !== null && typeof chunk === 'object' && chunk.error) {
      this.#fail(new APIError(undefined, chunk.error as object, undefined, this.#headers));
      return;
    }
    this.#queue.push(chunk);
  }

  #fail(error: unknown): void {
    if (this.#failure !== undefined || this.#ended) return;
    this.#failure = { error };
    this.#body.destroy();
    this.#settle();
  }

  /** The next result if one is decided now: a parsed chunk, the end, or the failure (after the chunks). */
  #take(): Promise<IteratorResult<UpstreamChunk>> | undefined {
    if (this.#head < this.#queue.length) {
      const value = this.#queue[this.#head] as UpstreamChunk;
      this.#head += 1;
      if (this.#head === this.#queue.length) {
        this.#queue.length = 0;
        this.#head = 0;
        if (this.#body.isPaused() && !this.#ended) this.#body.resume();
      }
      return Promise.resolve({ done: false, value });
    }
    if (this.#failure !== undefined) {
      const { error } = this.#failure;
      return isAbortError(error) ? Promise.resolve({ done: true, value: undefined }) : Promise.reject(error);
    }
    if (this.#ended) return Promise.resolve({ done: true, value: undefined });
    return undefined;
  }

  #settle(): void {
    const waiter = this.#waiter;
    if (waiter === undefined) return;
    const ready = this.#take();
    if (ready === undefined) return;
    this.#waiter = undefined;
    ready.then(waiter.resolve, waiter.reject);
  }
}

/** The chunks of a streamed chat completion whose body is `body`, read from now on; iterate once. */
export function chatCompletionChunks(body: Readable, headers: Headers): AsyncIterable<UpstreamChunk> {
  const reader = new ChunkReader(body, headers);
  return {
    [Symbol.asyncIterator]: () => reader,
  };
}
