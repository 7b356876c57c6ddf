/**
 * A `wx.request` built on node:http, for end-to-end tests of the client core against the real server.
 *
 * Contract: behaves like WeChat's chunked request as far as the transport can tell — `onHeadersReceived`
 * gets the status and headers, `onChunkReceived` gets the body as ArrayBuffers, `success` fires when the
 * body ended, `fail` with `request:fail …` on a network error and `request:fail abort` after `abort()`.
 * With `reslice`, the real socket chunks are re-cut at random byte positions and merged before delivery,
 * which is what `onChunkReceived` on a phone does to a stream: UTF-8 characters and SSE events straddle slices.
 */
import http from 'node:http';
import type { WxRequestChunkListener, WxRequestHeadersListener, WxRequestLike, WxRequestOptionsLike, WxRequestTaskLike } from '@wxstream/client';

export interface NodeWxRequestOptions {
  /** Re-cut the byte stream into slices of 1..maxSlice bytes drawn from `random` (deterministic when seeded). */
  reslice?: { random: () => number; maxSlice: number };
  /** Deliver the whole body in `success` and no chunks, like PC WeChat and old base libraries. */
  ignoreEnableChunked?: boolean;
  /** Report no headers either (`onHeadersReceived` never fires): nothing at all is heard before `success`. */
  silentUntilEnd?: boolean;
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  const copy = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(copy).set(bytes);
  return copy;
}

function flatHeaders(headers: http.IncomingHttpHeaders): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}

export function createNodeWxRequest(config: NodeWxRequestOptions = {}): WxRequestLike & { readonly chunkSizes: number[] } {
  const chunkSizes: number[] = [];
  const request = (options: WxRequestOptionsLike): WxRequestTaskLike => {
    const headersListeners = new Set<WxRequestHeadersListener>();
    const chunkListeners = new Set<WxRequestChunkListener>();
    let settled = false;
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      fn();
      options.complete?.();
    };
    const chunked = options.enableChunked === true && !config.ignoreEnableChunked;
    let pending = new Uint8Array(0);

    const deliver = (bytes: Uint8Array): void => {
      chunkSizes.push(bytes.byteLength);
      const data = toArrayBuffer(bytes);
      for (const listener of [...chunkListeners]) listener({ data });
    };
    // Re-slicing keeps a carry-over of bytes not yet delivered, so slices merge socket chunks as well as split them.
    const push = (bytes: Uint8Array, final: boolean): void => {
      if (!config.reslice) {
        if (bytes.byteLength > 0) deliver(bytes);
        return;
      }
      const merged = new Uint8Array(pending.byteLength + bytes.byteLength);
      merged.set(pending);
      merged.set(bytes, pending.byteLength);
      let offset = 0;
      for (;;) {
        const size = 1 + Math.floor(config.reslice.random() * config.reslice.maxSlice);
        if (offset + size > merged.byteLength) break;
        deliver(merged.subarray(offset, offset + size));
        offset += size;
      }
      pending = merged.slice(offset);
      if (final && pending.byteLength > 0) {
        deliver(pending);
        pending = new Uint8Array(0);
      }
    };

    const url = new URL(options.url);
        const req = http.request(url, { method: options.method, headers: { ...options.header } });
    req.on('response', (res) => {
      const header = flatHeaders(res.headers);
      const statusCode = res.statusCode ?? 0;
      if (!config.silentUntilEnd) for (const listener of [...headersListeners]) listener({ header, statusCode });
      const whole: Buffer[] = [];
      res.on('data', (chunk: Buffer) => {
        if (settled) return;
        if (chunked) push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength), false);
        else whole.push(chunk);
      });
      res.on('end', () => {
        if (settled) return;
        if (chunked) push(new Uint8Array(0), true);
        const data = chunked ? new ArrayBuffer(0) : toArrayBuffer(Buffer.concat(whole));
        settle(() => options.success?.({ statusCode, header, data }));
      });
      res.on('error', (error: Error) => settle(() => options.fail?.({ errMsg: `request:fail ${error.message}` })));
    });
    req.on('error', (error: Error) => settle(() => options.fail?.({ errMsg: `request:fail ${error.message}` })));
    if (options.data !== undefined) req.write(options.data);
    req.end();

    return {
      abort() {
        if (settled) return;
        req.destroy();
        settle(() => options.fail?.({ errMsg: 'request:fail abort' }));
      },
      onHeadersReceived(listener) {
        headersListeners.add(listener);
      },
      offHeadersReceived(listener) {
        if (listener) headersListeners.delete(listener);
        else headersListeners.clear();
      },
      onChunkReceived(listener) {
        chunkListeners.add(listener);
      },
      offChunkReceived(listener) {
        if (listener) chunkListeners.delete(listener);
        else chunkListeners.clear();
      },
    };
  };
  return Object.assign(request, { chunkSizes });
}
