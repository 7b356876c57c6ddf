/**
 * A local stand-in for an OpenAI-compatible `POST /v1/audio/transcriptions`, for tests of the
 * OpenAI transcriber.
 *
 * Contract: every request is checked as OpenAI documents it — `Authorization: Bearer <key>`, a
 * `multipart/form-data` body (parsed here with the platform's own `Request.formData()`, not with
 * the server's busboy, so the two cannot share a mistake) holding a `file` part with a file name
 * and a `model` field, optional `language` and `response_format` — and recorded in `requests`
 * (the file's bytes, name and type included). A well-formed request is answered `{"text": …}`
 * from `transcript` (default: "heard <n> bytes"); a malformed one 400 with OpenAI's error shape,
 * a wrong key 401. `answer` overrides the outcome (HTTP errors, a hung server).
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeTranscriptionRequest {
  readonly path: string;
  readonly authorization: string | undefined;
  readonly contentType: string;
  readonly fields: Readonly<Record<string, string>>;
  readonly file: { readonly name: string; readonly type: string; readonly bytes: Buffer } | undefined;
  /** Why the fake refused it, or undefined when it was well-formed. */
  readonly problem: string | undefined;
}

export type FakeTranscriptionAnswer = { readonly kind: 'verified' } | { readonly kind: 'http-error'; readonly status: number } | { readonly kind: 'hang' };

export interface FakeTranscriptionOptions {
  readonly apiKey: string;
  readonly transcript?: (request: FakeTranscriptionRequest) => string;
  readonly answer?: (index: number) => FakeTranscriptionAnswer;
}

export interface FakeTranscriptionServer {
  /** `http://127.0.0.1:<port>/v1`: the base URL to configure. */
  readonly baseURL: string;
  readonly requests: readonly FakeTranscriptionRequest[];
  close(): Promise<void>;
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  response.end(text);
}

export async function startFakeTranscriptionServer(options: FakeTranscriptionOptions): Promise<FakeTranscriptionServer> {
  const requests: FakeTranscriptionRequest[] = [];
  const hung = new Set<ServerResponse>();
  const server = createServer((request, response) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      const body = Buffer.concat(chunks);
      const contentType = request.headers['content-type'] ?? '';
      const fields: Record<string, string> = {};
      let file: FakeTranscriptionRequest['file'];
      let problem: string | undefined;
      try {
        const form = await new Request('http://fake/', { method: 'POST', headers: { 'content-type': contentType }, body }).formData();
        for (const [name, value] of form.entries()) {
          if (typeof value === 'string') fields[name] = value;
          else if (name === 'file') file = { name: value.name, type: value.type, bytes: Buffer.from(await value.arrayBuffer()) };
        }
      } catch (error) {
        problem = `not multipart/form-data: ${String(error)}`;
      }
      if (problem === undefined) {
        if (request.method !== 'POST' || request.url !== '/v1/audio/transcriptions') problem = `unexpected ${request.method} ${request.url}`;
        else if (file === undefined) problem = 'no file part';
        else if (file.name === '' || !/\.(mp3|m4a|wav|aac|mp4|mpeg|mpga|ogg|webm|flac)$/.test(file.name)) problem = `file name without a known extension: "${file.name}"`;
        else if (fields.model === undefined || fields.model === '') problem = 'no model';
      }
      const record: FakeTranscriptionRequest = { path: request.url ?? '', authorization: request.headers.authorization, contentType, fields, file, problem };
      const index = requests.length;
      requests.push(record);

      const answer = options.answer?.(index) ?? { kind: 'verified' };
      if (answer.kind === 'hang') {
        hung.add(response);
        response.on('close', () => hung.delete(response));
        return;
      }
      if (answer.kind === 'http-error') {
        sendJson(response, answer.status, { error: { message: `scripted ${answer.status}`, type: 'server_error' } });
        return;
      }
      if (record.authorization !== `Bearer ${options.apiKey}`) {
        sendJson(response, 401, { error: { message: 'Incorrect API key provided', type: 'invalid_request_error', code: 'invalid_api_key' } });
        return;
      }
      if (problem !== undefined) {
        sendJson(response, 400, { error: { message: problem, type: 'invalid_request_error' } });
        return;
      }
      sendJson(response, 200, { text: options.transcript?.(record) ?? `heard ${file?.bytes.length ?? 0} bytes` });
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    async close() {
      for (const response of hung) response.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
