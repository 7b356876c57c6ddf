/**
 * A local stand-in for Youdao's short speech recognition, `POST /asrapi`, for tests of the Youdao
 * transcriber.
 *
 * Contract: every request is checked the way Youdao documents it — a form body with q (the audio,
 * base64), langType, appKey, salt, curtime, sign, signType=v3, format (wav/aac/mp3), rate,
 * channel=1 and type=1 — and its signature is VERIFIED with `expectedYoudaoSign` (the TTS fake's
 * own implementation, independent of the server's). Like Youdao it answers HTTP 200 with JSON:
 * `{"errorCode":"0","result":[…]}` from `transcript` (default: "heard <n> bytes"), an empty
 * audio `4304` (empty result), or an error code (108 bad app key, 202 bad signature, 207 reused
 * salt, 101 missing parameter, 4001 bad format). `answer` overrides the outcome; `requests`
 * records what arrived, with the decoded audio.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expectedYoudaoSign } from './fake-youdao-server.ts';

export interface FakeAsrRequest {
  readonly path: string;
  readonly params: Readonly<Record<string, string>>;
  readonly audio: Buffer;
  readonly signatureValid: boolean;
  readonly errorCode: string;
}

export type FakeAsrAnswer = { readonly kind: 'verified' } | { readonly kind: 'json-error'; readonly errorCode: string } | { readonly kind: 'http-error'; readonly status: number };

export interface FakeAsrOptions {
  readonly appKey: string;
  readonly appSecret: string;
  readonly transcript?: (request: Omit<FakeAsrRequest, 'errorCode'>) => string;
  readonly answer?: (index: number) => FakeAsrAnswer;
}

export interface FakeAsrServer {
  readonly url: string;
  readonly requests: readonly FakeAsrRequest[];
  close(): Promise<void>;
}

const REQUIRED = ['q', 'langType', 'appKey', 'salt', 'curtime', 'sign', 'signType', 'format', 'rate', 'channel', 'type'];

function sendJson(response: ServerResponse, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(200, { 'Content-Type': 'application/json;charset=UTF-8', 'Content-Length': Buffer.byteLength(text) });
  response.end(text);
}

export async function startFakeYoudaoAsrServer(options: FakeAsrOptions): Promise<FakeAsrServer> {
  const requests: FakeAsrRequest[] = [];
  const seenSalts = new Set<string>();
  const server = createServer((request, response) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      const params = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
      const signatureValid = params.sign === expectedYoudaoSign(options.appKey, options.appSecret, params, 'utf16');
      const audio = Buffer.from(params.q ?? '', 'base64');
      const index = requests.length;
      const answer = options.answer?.(index) ?? { kind: 'verified' };
      const record = (errorCode: string) => requests.push({ path: request.url ?? '', params, audio, signatureValid, errorCode });
      if (answer.kind === 'http-error') {
        record(String(answer.status));
        response.writeHead(answer.status, { 'Content-Type': 'text/html' });
        response.end('<html>error</html>');
        return;
      }
      if (answer.kind === 'json-error') {
        record(answer.errorCode);
        sendJson(response, { errorCode: answer.errorCode });
        return;
      }
      let errorCode = '0';
      if (request.method !== 'POST' || request.url !== '/asrapi' || !String(request.headers['content-type']).startsWith('application/x-www-form-urlencoded')) errorCode = '101';
      else if (REQUIRED.some((name) => (params[name] ?? '') === '') || params.signType !== 'v3' || params.type !== '1') errorCode = '101';
      else if (params.appKey !== options.appKey) errorCode = '108';
      else if (!signatureValid) errorCode = '202';
      else if (seenSalts.has(params.salt ?? '')) errorCode = '207';
      else if (!['wav', 'aac', 'mp3'].includes(params.format ?? '') || params.channel !== '1' || !/^\d+$/.test(params.rate ?? '')) errorCode = '4001';
      else if (audio.length === 0) errorCode = '4304';
      record(errorCode);
      if (errorCode !== '0') {
        sendJson(response, { errorCode });
        return;
      }
      seenSalts.add(params.salt ?? '');
      const text = options.transcript?.({ path: request.url ?? '', params, audio, signatureValid }) ?? `heard ${audio.length} bytes`;
      if (text === '') sendJson(response, { errorCode: '4304' });
      else sendJson(response, { result: [text], errorCode: '0' });
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
