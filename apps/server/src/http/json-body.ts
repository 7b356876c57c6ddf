/**
 * Reads a JSON request body under a byte limit, without trusting the client.
 *
 * Contract: resolves to the parsed JSON value or rejects with a `WxstreamError`:
 * `unsupported_media_type` unless the content type is `application/json` (charset, if given, must
 * be utf-8); `payload_too_large` as soon as the declared or received size exceeds `maxBytes` — the
 * rest is never read or buffered; `invalid_request` for bytes that are not UTF-8;
 * `invalid_json` for anything `JSON.parse` refuses (including an empty body). The body is decoded
 * once, whole, with a fatal decoder: chunks are never decoded on their own.
 */
import type { IncomingMessage } from 'node:http';
import { WxstreamError } from '@wxstream/protocol';

export function isJsonContentType(header: string | undefined): boolean {
  if (header === undefined) return false;
  const [mediaType = '', ...params] = header.split(';');
  if (mediaType.trim().toLowerCase() !== 'application/json') return false;
  return params.every((param) => {
    const [name = '', value = ''] = param.split('=');
    if (name.trim().toLowerCase() !== 'charset') return true;
    return value.trim().replace(/^"|"$/g, '').toLowerCase() === 'utf-8';
  });
}

function readLimited(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onAborted);
    };
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > maxBytes) {
        cleanup();
        // Stop pulling bytes: the answer is already decided.
        req.pause();
        reject(new WxstreamError('payload_too_large', `Request body exceeds ${maxBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks, received));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(new WxstreamError('invalid_request', 'The request body could not be read', { cause: error }));
    };
    const onAborted = () => onError(new Error('request aborted'));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onAborted);
  });
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export async function readJsonBody(req: IncomingMessage, limits: { maxBytes: number }): Promise<unknown> {
  if (!isJsonContentType(req.headers['content-type'])) {
    throw new WxstreamError('unsupported_media_type', 'Content-Type must be application/json');
  }
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limits.maxBytes) {
    throw new WxstreamError('payload_too_large', `Request body exceeds ${limits.maxBytes} bytes`);
  }
  const bytes = await readLimited(req, limits.maxBytes);
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch (error) {
    throw new WxstreamError('invalid_request', 'Request body is not valid UTF-8', { cause: error });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new WxstreamError('invalid_json', 'Request body is not valid JSON', { cause: error });
  }
}
