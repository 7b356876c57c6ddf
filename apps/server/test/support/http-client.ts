/**
 * A raw HTTP client for tests (node:http, no fetch): exact headers, exact bytes, and the ability to
 * cut the connection mid-reply like a phone losing signal.
 *
 * Contract: `send` resolves with the whole answer; `openStream` resolves at the response headers
 * with the body still flowing; `login` and `chatRequest` are shorthands for our routes. Nothing
 * here decodes bytes per chunk: bodies are concatenated first.
 */
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type ClientRequest } from 'node:http';
import { Agent } from 'node:http';
import { PATIENCE_MS } from './eventually.ts';

export interface HttpAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  readonly text: string;
  json(): unknown;
}

export interface SendOptions {
  method?: string;
  headers?: Record<string, string>;
  /** A string or object (sent as JSON) or raw bytes. */
  body?: string | Buffer | object;
  /** Send the body with `Transfer-Encoding: chunked` instead of a Content-Length. */
  chunked?: boolean;
}

// A fresh connection per request: tests must not depend on keep-alive reuse across cases.
const agent = new Agent({ keepAlive: false });

function encodeBody(body: SendOptions['body']): Buffer | undefined {
  if (body === undefined) return undefined;
  if (Buffer.isBuffer(body)) return body;
  return Buffer.from(typeof body === 'string' ? body : JSON.stringify(body), 'utf8');
}

function start(url: string, path: string, options: SendOptions): { req: ClientRequest; response: Promise<IncomingMessage> } {
  const body = encodeBody(options.body);
  const headers: Record<string, string> = { ...options.headers };
  if (body !== undefined && options.chunked !== true) headers['Content-Length'] = String(body.length);
  const req = httpRequest(new URL(path, url), { method: options.method ?? 'GET', headers, agent });
  const response = new Promise<IncomingMessage>((resolve, reject) => {
    req.once('response', resolve);
    req.once('error', reject);
  });
  if (body !== undefined) req.write(body);
  req.end();
  return { req, response };
}

function collect(res: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.once('end', () => resolve(Buffer.concat(chunks)));
    res.once('error', reject);
  });
}

function answer(res: IncomingMessage, body: Buffer): HttpAnswer {
  const text = body.toString('utf8');
  return { status: res.statusCode ?? 0, headers: res.headers, body, text, json: () => JSON.parse(text) as unknown };
}

export async function send(url: string, path: string, options: SendOptions = {}): Promise<HttpAnswer> {
  const { response } = start(url, path, options);
  const res = await response;
  return answer(res, await collect(res));
}

/** Like `send`, but the connection can be cut at any time, even before the response headers. */
export function beginSend(url: string, path: string, options: SendOptions = {}): { answer: Promise<HttpAnswer>; destroy(): void } {
  const { req, response } = start(url, path, options);
  const whole = response.then(async (res) => answer(res, await collect(res)));
  whole.catch(() => {});
  return { answer: whole, destroy: () => req.destroy() };
}

export interface OpenStream {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly response: IncomingMessage;
  /** Body chunks as they arrive, with arrival times (`performance.now()`). */
  readonly received: Array<{ at: number; bytes: Buffer }>;
  /** Resolves with the whole body once it ended; rejects if the connection broke. */
  readonly ended: Promise<Buffer>;
  /** Resolves once the received text contains `needle`; rejects after `timeoutMs` (a hang guard, default `PATIENCE_MS`). */
  waitForText(needle: string, timeoutMs?: number): Promise<void>;
  /** Cuts the connection, as a client that disappears. */
  destroy(): void;
  text(): string;
}

export async function openStream(url: string, path: string, options: SendOptions = {}): Promise<OpenStream> {
  const { req, response } = start(url, path, options);
  const res = await response;
  const received: Array<{ at: number; bytes: Buffer }> = [];
  const waiters = new Set<() => void>();
  const text = () => Buffer.concat(received.map((chunk) => chunk.bytes)).toString('utf8');
  res.on('data', (bytes: Buffer) => {
    received.push({ at: performance.now(), bytes });
    for (const wake of [...waiters]) wake();
  });
  const ended = new Promise<Buffer>((resolve, reject) => {
    res.once('end', () => resolve(Buffer.concat(received.map((chunk) => chunk.bytes))));
    res.once('error', reject);
    res.once('aborted', () => reject(new Error('response aborted')));
  });
  ended.catch(() => {});
  return {
    status: res.statusCode ?? 0,
    headers: res.headers,
    response: res,
    received,
    ended,
    text,
    waitForText(needle, timeoutMs = PATIENCE_MS) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!text().includes(needle)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for ${JSON.stringify(needle)}; got ${JSON.stringify(text())}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    destroy() {
      req.destroy();
      res.destroy();
    },
  };
}

export async function login(url: string, code = 'tester'): Promise<string> {
  const answerBody = await send(url, '/api/auth/login', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: { code },
  });
  if (answerBody.status !== 200) throw new Error(`login failed: ${answerBody.status} ${answerBody.text}`);
  return (answerBody.json() as { token: string }).token;
}

/** Options for `POST /api/chat` with a bearer token and a JSON body. */
export function chatRequest(token: string, body: object, headers: Record<string, string> = {}): SendOptions {
  return {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}`, ...headers },
    body,
  };
}
