/**
 * What happens to the body of a request that was answered before its body was read (too large,
 * no token, wrong content type, a limit).
 *
 * Why: most clients send the whole body before they read anything (no `Expect: 100-continue`).
 * Closing the connection with bytes still arriving makes the kernel answer them with a reset, and
 * the reset can reach the client before our answer does: it sees "connection reset" instead of the
 * 413 it should show. So the rest of the body is read and thrown away — up to `MAX_DRAIN_BYTES`
 * past what was read, the way nginx's lingering close does — and the connection stays usable.
 *
 * Contract: `drainRefusedBody(req, res)` does nothing when the request body is complete. When the
 * declared `Content-Length` says more than `MAX_DRAIN_BYTES` remain, it answers with
 * `Connection: close` and lets Node close after the answer (the old behaviour: no drain is worth
 * that much). Otherwise the body is read and discarded; the connection is destroyed if more than
 * `MAX_DRAIN_BYTES` arrive (a chunked body without end), and `REQUEST_TIMEOUT_MS` bounds a body
 * that trickles. Nothing is buffered.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Bytes read and dropped after an early answer; a 1 MiB photo sent by mistake still gets its 413. */
export const MAX_DRAIN_BYTES = 4 * 1024 * 1024;

export function drainRefusedBody(req: IncomingMessage, res: ServerResponse): void {
  if (req.complete || req.readableEnded || req.destroyed) return;
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > MAX_DRAIN_BYTES) {
    res.setHeader('Connection', 'close');
    return;
  }
  let drained = 0;
  const onData = (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > MAX_DRAIN_BYTES) {
      req.off('data', onData);
      req.socket.destroy();
    }
  };
  req.on('data', onData);
  req.once('end', () => req.off('data', onData));
  req.resume();
}
