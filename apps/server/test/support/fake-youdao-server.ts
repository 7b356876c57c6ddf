/**
 * A local stand-in for Youdao's `POST /ttsapi` on a loopback port, for tests of the Youdao provider.
 *
 * Contract: every request is checked the way Youdao documents it — a form body with q, langType,
 * appKey, salt, sign, signType=v3, curtime, voiceName, format — and its signature is VERIFIED
 * with this file's own implementation of `sha256(appKey + input + salt + curtime + appSecret)`
 * (written independently of src/voice/youdao-tts.ts, so the two cannot share a mistake), counting
 * characters as UTF-16 units like Youdao's Java demo or as code points like its Python demo
 * (`lengthUnit`). Like Youdao, it answers HTTP 200 either way: MP3 audio (`audio/mp3`, silent
 * frames, four per character of text) or a JSON error body (`application/json`, `errorCode`).
 * A bad app key is 108, a bad signature 202, a reused salt 207. `answer` overrides the outcome for
 * scenarios (rate limits, HTTP errors, a hung server); `requests` records everything received.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type FakeLengthUnit = 'utf16' | 'codepoint';

export type FakeYoudaoAnswer =
  | { readonly kind: 'verified' }
  | { readonly kind: 'audio'; readonly frames: number }
  | { readonly kind: 'json-error'; readonly errorCode: string }
  | { readonly kind: 'http-error'; readonly status: number }
  | { readonly kind: 'hang' };

export interface FakeYoudaoRequest {
  readonly method: string;
  readonly path: string;
  readonly contentType: string;
  readonly params: Readonly<Record<string, string>>;
  readonly signatureValid: boolean;
  /** What the fake answered: `audio` or a Youdao errorCode / HTTP status. */
  readonly outcome: string;
}

export interface FakeYoudaoOptions {
  readonly appKey: string;
  readonly appSecret: string;
  readonly lengthUnit?: FakeLengthUnit;
  /** Decides the answer per request; the default verifies and answers audio or an error code. */
  readonly answer?: (params: Readonly<Record<string, string>>, index: number) => FakeYoudaoAnswer;
}

export interface FakeYoudaoServer {
  /** Base URL to configure the provider with (`/ttsapi` is appended by the provider). */
  readonly url: string;
  readonly requests: readonly FakeYoudaoRequest[];
  close(): Promise<void>;
}

const REQUIRED = ['q', 'langType', 'appKey', 'salt', 'sign', 'signType', 'curtime', 'voiceName', 'format'];

/** MPEG-1 Layer III, 128 kbps, 44.1 kHz, mono, no CRC: 417-byte frames of 1152 samples each. */
const SILENT_FRAME_HEADER = [0xff, 0xfb, 0x90, 0xc0];
export const SILENT_FRAME_BYTES = 417;
export const SILENT_FRAME_MS = (1152 * 1000) / 44100;

/** `frames` silent MP3 frames: a valid stream whose duration a frame walker can count. */
export function silentMp3(frames: number): Buffer {
  const frame = Buffer.alloc(SILENT_FRAME_BYTES);
  frame.set(SILENT_FRAME_HEADER, 0);
  return Buffer.concat(Array.from({ length: frames }, () => frame));
}

function truncated(q: string, unit: FakeLengthUnit): string {
  if (unit === 'utf16') {
    const length = q.length;
    return length <= 20 ? q : q.substring(0, 10) + length + q.substring(length - 10, length);
  }
  const points = [...q];
  return points.length <= 20 ? q : points.slice(0, 10).join('') + points.length + points.slice(points.length - 10).join('');
}

/** UTF-8 as Java's String.getBytes writes it: a surrogate without its partner becomes '?'. */
function javaUtf8Bytes(text: string): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    const nextUnit = text.charCodeAt(i + 1);
    if (unit >= 0xd800 && unit <= 0xdbff && nextUnit >= 0xdc00 && nextUnit <= 0xdfff) {
      parts.push(Buffer.from(text.slice(i, i + 2), 'utf8'));
      i++;
    } else if (unit >= 0xd800 && unit <= 0xdfff) {
      parts.push(Buffer.from('?'));
    } else {
      parts.push(Buffer.from(text.charAt(i), 'utf8'));
    }
  }
  return Buffer.concat(parts);
}

export function expectedYoudaoSign(appKey: string, appSecret: string, params: Readonly<Record<string, string>>, unit: FakeLengthUnit): string {
  const source = appKey + truncated(params.q ?? '', unit) + (params.salt ?? '') + (params.curtime ?? '') + appSecret;
  return createHash('sha256').update(javaUtf8Bytes(source)).digest('hex');
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function sendJson(response: ServerResponse, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(200, { 'Content-Type': 'application/json;charset=UTF-8', 'Content-Length': Buffer.byteLength(text) });
  response.end(text);
}

export async function startFakeYoudaoServer(options: FakeYoudaoOptions): Promise<FakeYoudaoServer> {
  const requests: FakeYoudaoRequest[] = [];
  const seenSalts = new Set<string>();
  const unit = options.lengthUnit ?? 'utf16';
  const hung = new Set<ServerResponse>();

  const server = createServer((request, response) => {
    void (async () => {
      const body = await readBody(request);
      const contentType = request.headers['content-type'] ?? '';
      const params = Object.fromEntries(new URLSearchParams(body));
      const signatureValid = params.sign === expectedYoudaoSign(options.appKey, options.appSecret, params, unit);
      const index = requests.length;
      const record = (outcome: string) =>
        requests.push({ method: request.method ?? '', path: request.url ?? '', contentType, params, signatureValid, outcome });

      const answer = options.answer?.(params, index) ?? { kind: 'verified' };
      switch (answer.kind) {
        case 'hang':
          record('hang');
          hung.add(response);
          response.on('close', () => hung.delete(response));
          return;
        case 'http-error':
          record(String(answer.status));
          response.writeHead(answer.status, { 'Content-Type': 'text/html' });
          response.end('<html>error</html>');
          return;
        case 'json-error':
          record(answer.errorCode);
          sendJson(response, { errorCode: answer.errorCode });
          return;
        case 'audio': {
          record('audio');
          const audio = silentMp3(answer.frames);
          response.writeHead(200, { 'Content-Type': 'audio/mp3', 'Content-Length': audio.length });
          response.end(audio);
          return;
        }
        case 'verified':
          break;
      }

      let errorCode: string | undefined;
      if (request.method !== 'POST' || request.url !== '/ttsapi' || !contentType.startsWith('application/x-www-form-urlencoded')) errorCode = '101';
      else if (REQUIRED.some((name) => params[name] === undefined || params[name] === '') || params.signType !== 'v3') errorCode = '101';
      else if (params.appKey !== options.appKey) errorCode = '108';
      else if (!signatureValid) errorCode = '202';
      else if (!/^\d+$/.test(params.curtime ?? '')) errorCode = '206';
      else if (seenSalts.has(params.salt ?? '')) errorCode = '207';
      if (errorCode !== undefined) {
        record(errorCode);
        sendJson(response, { errorCode });
        return;
      }
      seenSalts.add(params.salt ?? '');
      record('audio');
      const audio = silentMp3(Math.max(1, [...(params.q ?? '')].length * 4));
      response.writeHead(200, { 'Content-Type': 'audio/mp3', 'Content-Length': audio.length });
      response.end(audio);
    })();
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const response of hung) response.destroy();
        server.closeAllConnections();
        server.close((error) => (error === undefined ? resolve() : reject(error)));
      }),
  };
}
