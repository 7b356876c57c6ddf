/**
 * A scriptable stand-in for `wx.request` with `enableChunked`, driven by the test as the "network".
 *
 * Contract: `request` records each call and returns a task whose listeners the test fires through
 * `sendHeaders`, `sendChunk`, `sendBody`, `succeed` and `fail`. Chunks are handed over as fresh
 * ArrayBuffers, as WeChat does. Listener bookkeeping follows WeChat: `off*` with a listener removes that
 * one, without one removes all. `abort()` behaves like a real RequestTask on an unfinished request — it
 * ends the request with `fail({ errMsg: 'request:fail abort' })`, here synchronously, the harshest
 * timing for re-entrancy — and is a no-op on a finished one. `sendChunk(…, { evenIfRemoved: true })`
 * simulates a platform that still delivers a chunk that was in flight when the listener was removed.
 */
import type {
  WxRequestChunkListener,
  WxRequestHeadersListener,
  WxRequestLike,
  WxRequestOptionsLike,
  WxRequestTaskLike,
} from '../../src/wx-request-transport.ts';

const encoder = new TextEncoder();

export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Cuts `bytes` at the given positions (sorted or not, duplicates and out-of-range ones ignored). */
export function sliceAt(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.filter((cut) => cut > 0 && cut < bytes.length))].sort((a, b) => a - b);
  const pieces: Uint8Array[] = [];
  let from = 0;
  for (const cut of [...points, bytes.length]) {
    pieces.push(bytes.slice(from, cut));
    from = cut;
  }
  return pieces;
}

/** The UTF-8 bytes of `text` in an ArrayBuffer of their own, as `success.data` carries a body. */
export function arrayBufferOf(text: string): ArrayBuffer {
  return freshBuffer(utf8(text));
}

function freshBuffer(bytes: Uint8Array): ArrayBuffer {
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return copy.buffer;
}

export class FakeRequestTask implements WxRequestTaskLike {
  readonly options: WxRequestOptionsLike;
  abortCalls = 0;
  offChunkCalls = 0;
  finished = false;
  private headersListeners: WxRequestHeadersListener[] = [];
  private chunkListeners: WxRequestChunkListener[] = [];
  private everChunkListeners: WxRequestChunkListener[] = [];

  constructor(options: WxRequestOptionsLike) {
    this.options = options;
  }

  get chunkListenerCount(): number {
    return this.chunkListeners.length;
  }

  abort(): void {
    this.abortCalls++;
    if (!this.finished) this.fail('request:fail abort');
  }

  onHeadersReceived(listener: WxRequestHeadersListener): void {
    this.headersListeners.push(listener);
  }

  offHeadersReceived(listener?: WxRequestHeadersListener): void {
    this.headersListeners = listener === undefined ? [] : this.headersListeners.filter((l) => l !== listener);
  }

  onChunkReceived(listener: WxRequestChunkListener): void {
    this.chunkListeners.push(listener);
    this.everChunkListeners.push(listener);
  }

  offChunkReceived(listener?: WxRequestChunkListener): void {
    this.offChunkCalls++;
    this.chunkListeners = listener === undefined ? [] : this.chunkListeners.filter((l) => l !== listener);
  }

  /** Leave `statusCode` undefined to act like DevTools, which omits it. */
  sendHeaders(statusCode: number | undefined, header: Record<string, string> = {}): void {
    const result = statusCode === undefined ? { header } : { header, statusCode };
    for (const listener of [...this.headersListeners]) listener(result);
  }

  sendChunk(bytes: Uint8Array, options: { evenIfRemoved?: boolean } = {}): void {
    const listeners = options.evenIfRemoved === true ? this.everChunkListeners : this.chunkListeners;
    for (const listener of [...listeners]) listener({ data: freshBuffer(bytes) });
  }

  /** Sends `body` as chunks cut at `cuts`. */
  sendBody(body: Uint8Array | string, cuts: readonly number[] = []): void {
    const bytes = typeof body === 'string' ? utf8(body) : body;
    for (const piece of sliceAt(bytes, cuts)) this.sendChunk(piece);
  }

  succeed(statusCode = 200, data: ArrayBuffer | string | Record<string, unknown> = new ArrayBuffer(0), header: Record<string, string> = {}): void {
    if (this.finished) return;
    this.finished = true;
    this.options.success({ statusCode, header, data });
    this.options.complete?.();
  }

  fail(errMsg: string, errno?: number): void {
    if (this.finished) return;
    this.finished = true;
    this.options.fail(errno === undefined ? { errMsg } : { errMsg, errno });
    this.options.complete?.();
  }
}

export class FakeWxRequest {
  readonly tasks: FakeRequestTask[] = [];
  readonly request: WxRequestLike = (options) => {
    const task = new FakeRequestTask(options);
    this.tasks.push(task);
    return task;
  };

  get last(): FakeRequestTask {
    const task = this.tasks[this.tasks.length - 1];
    if (task === undefined) throw new Error('wx.request was never called');
    return task;
  }
}
