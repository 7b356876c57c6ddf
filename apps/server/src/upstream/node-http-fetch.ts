/**
 * A `fetch` for the `openai` SDK over `node:http`/`node:https` with kept-alive connections, so the
 * SDK still builds and sends every request, reads refusals and classifies failures, while a
 * streamed body can be read as the Node stream it arrives as (`nodeBodyOf`) instead of through
 * undici and Web Streams — which cost a streamed reply about three times the CPU and most of its
 * memory (docs/benchmarks.md).
 *
 * Contract: resolves, once the response headers have arrived, to a standard `Response` (status,
 * headers, and a body the SDK may read as usual: it is bridged lazily from the Node response, so a
 * body that is read through `nodeBodyOf` instead never touches a Web Stream). A body is read one way
 * only. Aborting `init.signal` destroys the request at any time: before the headers the promise
 * rejects with the signal's reason (an `AbortError`), after them the body ends in that error. A
 * request that fails before its headers rejects with `TypeError('fetch failed', { cause })`, as
 * undici's fetch does, so the SDK reports it as a connection error. Bodies other than a string or
 * bytes (never used for chat completions) go to the platform's `fetch`.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

const bodies = new WeakMap<Response, IncomingMessage>();

/** The Node stream of a response this fetch made, to read its body without Web Streams. */
export function nodeBodyOf(response: Response): IncomingMessage | undefined {
  return bodies.get(response);
}

/** Statuses whose response has no body (the `Response` constructor refuses one). */
const NULL_BODY_STATUSES = new Set([204, 205, 304]);

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

function requestBody(body: RequestInit['body']): string | Uint8Array | undefined | false {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  return false;
}

function responseHeaders(incoming: IncomingMessage): Headers {
  const headers = new Headers();
  const raw = incoming.rawHeaders;
  for (let index = 0; index + 1 < raw.length; index += 2) headers.append(raw[index] as string, raw[index + 1] as string);
  return headers;
}

/** A Web Stream over the Node response, attached only when someone reads it. */
function bridgedBody(incoming: IncomingMessage): ReadableStream<Uint8Array> {
  let attached = false;
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (!attached) {
          attached = true;
          incoming.on('data', (chunk: Buffer) => {
            controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
            if ((controller.desiredSize ?? 0) <= 0) incoming.pause();
          });
          incoming.once('end', () => controller.close());
          incoming.once('error', (error) => controller.error(error));
        }
        incoming.resume();
      },
      cancel(reason) {
        incoming.destroy(reason instanceof Error ? reason : undefined);
      },
    },
    { highWaterMark: 0 },
  );
}

export function createNodeHttpFetch(): typeof fetch {
  const agents = { 'http:': new HttpAgent({ keepAlive: true }), 'https:': new HttpsAgent({ keepAlive: true }) };

  return (input, init) => {
    const body = requestBody(init?.body);
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (input instanceof Request || body === false || (url.protocol !== 'http:' && url.protocol !== 'https:')) return fetch(input, init);
    const signal = init?.signal ?? undefined;
    if (signal?.aborted) return Promise.reject(abortReason(signal));

    const headers: Record<string, string> = {};
    new Headers(init?.headers).forEach((value, name) => {
      headers[name] = value;
    });
    if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<Response>((resolve, reject) => {
      const req = send(url, { method: init?.method ?? 'GET', headers, agent: agents[url.protocol as 'http:' | 'https:'] });
      let answered: IncomingMessage | undefined;
      const onAbort = () => {
        const reason = abortReason(signal as AbortSignal);
        const error = reason instanceof Error ? reason : undefined;
        // The body, when there is one, ends in the abort's own error (readers tell it from a failure).
        answered?.destroy(error);
        req.destroy(error);
        if (answered === undefined) reject(reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      req.once('error', (error) => {
        if (answered !== undefined) return;
        signal?.removeEventListener('abort', onAbort);
        reject(signal?.aborted ? abortReason(signal) : new TypeError('fetch failed', { cause: error }));
      });
      req.once('response', (incoming) => {
        answered = incoming;
        // Its readers attach their own; until one does, an abort must not become an unhandled error.
        incoming.on('error', () => undefined);
        incoming.once('close', () => signal?.removeEventListener('abort', onAbort));
        const status = incoming.statusCode ?? 502;
        const hasBody = !NULL_BODY_STATUSES.has(status) && init?.method !== 'HEAD';
        if (!hasBody) incoming.resume();
        const response = new Response(hasBody ? bridgedBody(incoming) : null, { status, statusText: incoming.statusMessage ?? '', headers: responseHeaders(incoming) });
        if (hasBody) bodies.set(response, incoming);
        resolve(response);
      });
      req.end(body);
    });
  };
}
