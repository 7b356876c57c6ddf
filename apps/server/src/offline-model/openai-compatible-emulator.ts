/**
 * An OpenAI-compatible chat-completions server (real `node:http`), scripted by scenarios.
 *
 * One idea, two uses: it is the embedded offline model the server falls back to when no provider
 * is configured, and it is the upstream every server test and the benchmark talk to. It behaves
 * like the providers we relay — and like their failure modes, on request:
 *
 * - `POST /v1/chat/completions` with `stream: true`: an optional role-only first chunk,
 *   `reasoning_content` deltas, `content` deltas, a chunk with `finish_reason`, a usage chunk with
 *   empty `choices` (or cumulative usage repeated on every chunk), then `data: [DONE]`. Options add
 *   `: keep-alive` comment lines, CRLF line endings, writes cut every N bytes (through multi-byte
 *   characters and lines), pacing between events, an error mid-stream (socket destroyed or an
 *   `error` data event), a stall (no more bytes, connection held open), or an HTTP error status
 *   with an OpenAI-style JSON body before the first byte.
 * - Without `stream: true`: one minimal `chat.completion` JSON.
 * - `GET /v1/models`: the model list.
 *
 * Every request is recorded (method, path, model, messages, stream flags, headers) together with
 * whether the client closed the connection before the response finished and when (`now()` of the
 * injected clock, `performance.now()` by default), so tests can assert that an abort reached the
 * upstream. Recording keeps the last `maxRecorded` requests.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

export interface EmulatorUsage {
  readonly promptTokens: number;
  readonly completionTokens: number;
}

export interface EmulatorScenario {
  /** `reasoning_content` deltas, sent before the content. */
  readonly reasoning?: readonly string[];
  /** `content` deltas. */
  readonly content?: readonly string[];
  /** Send a first chunk carrying only `role: assistant` (default true, as OpenAI does). */
  readonly roleChunk?: boolean;
  /** `finish_reason` of the final choice chunk; `null` sends no finish chunk (default `stop`). */
  readonly finishReason?: string | null;
  /** Final usage chunk (empty `choices`); `null` sends none. Default: counted from the texts. */
  readonly usage?: EmulatorUsage | null;
  /** Also attach the running (cumulative) usage to every chunk, as some providers do. */
  readonly cumulativeUsage?: boolean;
  /** Put a `: keep-alive` comment line before every event. */
  readonly keepAlive?: boolean;
  /** Line ending of the SSE stream (default `\n`). */
  readonly lineEnding?: '\n' | '\r\n';
  /** Cut the byte stream of each event into writes of this many bytes (1 ms apart). */
  readonly splitEveryBytes?: number;
  /** Pause before each event after the first (default 0). */
  readonly chunkDelayMs?: number;
  /** Pause before sending the response headers. */
  readonly headersDelayMs?: number;
  /** Send `data: [DONE]` at the end (default true). */
  readonly sendDone?: boolean;
  /** After this many events, fail: destroy the socket, or send an `error` data event and end. */
  readonly failAfter?: { readonly events: number; readonly mode: 'destroy' | 'error-event'; readonly message?: string };
  /** After this many events, send nothing more but keep the connection open. */
  readonly stallAfter?: number;
  /**
   * After this many events, wait until `until` settles before sending the rest — so a test can
   * hold the stream at a point until something it observes has happened (an event, not a sleep).
   */
  readonly holdAfter?: { readonly events: number; readonly until: PromiseLike<unknown> };
  /** Answer this status and an OpenAI-style error body before any stream byte. */
  readonly httpError?: {
    readonly status: number;
    readonly message: string;
    readonly type?: string;
    readonly code?: string | null;
    /** Extra response headers, e.g. `Retry-After` or `retry-after-ms` on a 429 or 503. */
    readonly headers?: Readonly<Record<string, string>>;
  };
  /** Prefix each content delta with its send time, `<epoch ms with decimals>|` (for benchmarks). */
  readonly timestampContent?: boolean;
}

export interface RecordedRequest {
  readonly index: number;
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  /** Parsed JSON body; `undefined` when there was none or it was not JSON. */
  readonly body: unknown;
  readonly model: string | undefined;
  readonly messages: ReadonlyArray<{ readonly role: string; readonly content: unknown }>;
  readonly stream: boolean;
  readonly streamOptions: unknown;
  readonly receivedAt: number;
  /** When the response was completely written. */
  finishedAt: number | undefined;
  /** True when the client closed the connection before the response finished. */
  aborted: boolean;
  abortedAt: number | undefined;
}

export type ScenarioSource = EmulatorScenario | ((request: RecordedRequest) => EmulatorScenario);

export interface EmulatorOptions {
  scenario?: ScenarioSource;
  /** Model name listed by `/v1/models` and used when a request names none. */
  model?: string;
  /** Answer 401 unless `Authorization: Bearer <requireApiKey>` (echoing the key, as OpenAI does). */
  requireApiKey?: string;
  /** How many requests to keep in `requests` (default 1000; 0 disables recording). */
  maxRecorded?: number;
  now?: () => number;
  host?: string;
  port?: number;
}

export interface OpenAICompatibleEmulator {
  /** Base URL including `/v1`, ready for the SDK's `baseURL`. */
  readonly baseURL: string;
  readonly port: number;
  readonly requests: readonly RecordedRequest[];
  setScenario(scenario: ScenarioSource): void;
  /** Resolves with the request once the client has closed it early; rejects after `timeoutMs`. */
  waitForAbort(index: number, timeoutMs: number): Promise<RecordedRequest>;
  /** Resolves once at least `count` requests have arrived; rejects after `timeoutMs`. */
  waitForRequests(count: number, timeoutMs: number): Promise<readonly RecordedRequest[]>;
  close(): Promise<void>;
}

interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

function toUsage(usage: EmulatorUsage): Usage {
  return {
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
    total_tokens: usage.promptTokens + usage.completionTokens,
  };
}

function countCodePoints(text: string): number {
  let count = 0;
  for (const _ of text) count += 1;
  return count;
}

function promptTokensOf(request: RecordedRequest): number {
  return request.messages.reduce((sum, message) => sum + (typeof message.content === 'string' ? countCodePoints(message.content) : 0), 0);
}

function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

/** One SSE event of the stream, before line endings and splitting are applied. */
type StreamPart = { kind: 'data'; json: unknown; countsAsEvent: boolean } | { kind: 'done' };

/**
 * The chunks of a streamed completion, in order — pure, so the wire format is visible in one place.
 * Content texts are functions so a timestamp can be taken at send time.
 */
function planChunks(scenario: EmulatorScenario, request: RecordedRequest, id: string, model: string): Array<() => StreamPart> {
  const created = Math.floor(Date.now() / 1000);
  const reasoning = scenario.reasoning ?? [];
  const content = scenario.content ?? [];
  const promptTokens = promptTokensOf(request);
  const finalUsage: EmulatorUsage | null =
    scenario.usage === undefined ? { promptTokens, completionTokens: reasoning.length + content.length } : scenario.usage;
  let completionSoFar = 0;
  const running = (): Usage | undefined =>
    scenario.cumulativeUsage === true ? toUsage({ promptTokens: finalUsage?.promptTokens ?? promptTokens, completionTokens: completionSoFar }) : undefined;
  const chunk = (delta: Record<string, unknown>, finishReason: string | null): Record<string, unknown> => {
    const usage = running();
    return {
      id,
      object: 'chat.completion.chunk',
      created,
      model,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
      ...(usage === undefined ? {} : { usage }),
    };
  };

  const parts: Array<() => StreamPart> = [];
  if (scenario.roleChunk !== false) {
    parts.push(() => ({ kind: 'data', json: chunk({ role: 'assistant', content: '' }, null), countsAsEvent: true }));
  }
  for (const text of reasoning) {
    parts.push(() => {
      completionSoFar += 1;
      return { kind: 'data', json: chunk({ reasoning_content: text }, null), countsAsEvent: true };
    });
  }
  for (const text of content) {
    parts.push(() => {
      completionSoFar += 1;
      const stamped = scenario.timestampContent === true ? `${epochMs().toFixed(3)}|${text}` : text;
      return { kind: 'data', json: chunk({ content: stamped }, null), countsAsEvent: true };
    });
  }
  const finishReason = scenario.finishReason === undefined ? 'stop' : scenario.finishReason;
  if (finishReason !== null) parts.push(() => ({ kind: 'data', json: chunk({}, finishReason), countsAsEvent: true }));
  if (finalUsage !== null) {
    parts.push(() => ({
      kind: 'data',
      json: { id, object: 'chat.completion.chunk', created, model, choices: [], usage: toUsage(finalUsage) },
      countsAsEvent: true,
    }));
  }
  if (scenario.sendDone !== false) parts.push(() => ({ kind: 'done' }));
  return parts;
}

function encodePart(part: StreamPart, scenario: EmulatorScenario): Buffer {
  const eol = scenario.lineEnding ?? '\n';
  const keepAlive = scenario.keepAlive === true ? `: keep-alive${eol}${eol}` : '';
  const data = part.kind === 'done' ? '[DONE]' : JSON.stringify(part.json);
  return Buffer.from(`${keepAlive}data: ${data}${eol}${eol}`, 'utf8');
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function openAIError(message: string, type: string, code: string | null): unknown {
  return { error: { message, type, param: null, code } };
}

export async function startOpenAICompatibleEmulator(options: EmulatorOptions = {}): Promise<OpenAICompatibleEmulator> {
  const now = options.now ?? (() => performance.now());
  const defaultModel = options.model ?? 'emulated-model';
  const maxRecorded = options.maxRecorded ?? 1000;
  let scenarioSource: ScenarioSource = options.scenario ?? { content: ['Hello', ' from', ' the', ' emulator.'] };
  const recorded: RecordedRequest[] = [];
  let total = 0;
  const listeners = new Set<() => void>();
  const notify = () => {
    for (const listener of [...listeners]) listener();
  };
  const waitUntil = <T>(check: () => T | undefined, timeoutMs: number, what: string): Promise<T> =>
    new Promise((resolve, reject) => {
      const ready = check();
      if (ready !== undefined) {
        resolve(ready);
        return;
      }
      const listener = () => {
        const value = check();
        if (value === undefined) return;
        clearTimeout(timer);
        listeners.delete(listener);
        resolve(value);
      };
      const timer = setTimeout(() => {
        listeners.delete(listener);
        reject(new Error(`emulator: timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      listeners.add(listener);
    });

  const record = (req: IncomingMessage, body: unknown): RecordedRequest => {
    const fields = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
    const messages = Array.isArray(fields.messages)
      ? fields.messages.map((message: unknown) => {
          const { role, content } = (typeof message === 'object' && message !== null ? message : {}) as Record<string, unknown>;
          return { role: String(role), content };
        })
      : [];
    const entry: RecordedRequest = {
      index: total,
      method: req.method ?? '',
      path: req.url ?? '',
      headers: req.headers,
      body,
      model: typeof fields.model === 'string' ? fields.model : undefined,
      messages,
      stream: fields.stream === true,
      streamOptions: fields.stream_options,
      receivedAt: now(),
      finishedAt: undefined,
      aborted: false,
      abortedAt: undefined,
    };
    total += 1;
    if (maxRecorded > 0) {
      recorded.push(entry);
      if (recorded.length > maxRecorded) recorded.shift();
    }
    return entry;
  };

  const streamCompletion = async (res: ServerResponse, scenario: EmulatorScenario, entry: RecordedRequest, model: string) => {
    if (scenario.headersDelayMs !== undefined) await sleep(scenario.headersDelayMs);
    if (res.destroyed) return;
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
    res.flushHeaders();
    const parts = planChunks(scenario, entry, `chatcmpl-emu-${entry.index}`, model);
    let sentEvents = 0;
    for (const [position, makePart] of parts.entries()) {
      if (res.destroyed) return;
      if (scenario.failAfter !== undefined && sentEvents >= scenario.failAfter.events) {
        const message = scenario.failAfter.message ?? 'The emulated model failed mid-stream';
        if (scenario.failAfter.mode === 'destroy') {
          // Let the bytes already written leave first: a provider that crashes has sent them.
          await sleep(20);
          res.socket?.destroy();
        } else {
          res.end(encodePart({ kind: 'data', json: openAIError(message, 'server_error', null), countsAsEvent: false }, scenario));
        }
        return;
      }
      if (scenario.stallAfter !== undefined && sentEvents >= scenario.stallAfter) return; // hold the connection open
      if (scenario.holdAfter !== undefined && sentEvents === scenario.holdAfter.events) {
        await Promise.resolve(scenario.holdAfter.until).then(undefined, () => undefined);
        if (res.destroyed) return;
      }
      if (position > 0 && (scenario.chunkDelayMs ?? 0) > 0) await sleep(scenario.chunkDelayMs);
      if (res.destroyed) return;
      const part = makePart();
      const bytes = encodePart(part, scenario);
      const step = scenario.splitEveryBytes;
      if (step === undefined || step <= 0) {
        res.write(bytes);
      } else {
        for (let at = 0; at < bytes.length; at += step) {
          if (res.destroyed) return;
          res.write(bytes.subarray(at, at + step));
          await sleep(1);
        }
      }
      if (part.kind === 'data' && part.countsAsEvent) sentEvents += 1;
    }
    res.end();
  };

  const answerOnce = (res: ServerResponse, scenario: EmulatorScenario, entry: RecordedRequest, model: string) => {
    const content = (scenario.content ?? []).join('');
    const reasoning = (scenario.reasoning ?? []).join('');
    const usage = scenario.usage === undefined ? { promptTokens: promptTokensOf(entry), completionTokens: (scenario.content ?? []).length } : scenario.usage;
    sendJson(res, 200, {
      id: `chatcmpl-emu-${entry.index}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content, ...(reasoning === '' ? {} : { reasoning_content: reasoning }) },
          logprobs: null,
          finish_reason: scenario.finishReason ?? 'stop',
        },
      ],
      ...(usage === null ? {} : { usage: toUsage(usage) }),
    });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method === 'GET' && path === '/v1/models') {
      sendJson(res, 200, { object: 'list', data: [{ id: defaultModel, object: 'model', created: 0, owned_by: 'wxstream' }] });
      return;
    }
    if (path !== '/v1/chat/completions') {
      sendJson(res, 404, openAIError(`Unknown path ${path}`, 'invalid_request_error', 'not_found'));
      return;
    }
    if (req.method !== 'POST') {
      sendJson(res, 405, openAIError('Method not allowed', 'invalid_request_error', null));
      return;
    }
    const raw = await readBody(req);
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      body = undefined;
    }
    const entry = record(req, body);
    res.once('close', () => {
      if (res.writableFinished) {
        entry.finishedAt = now();
      } else {
        entry.aborted = true;
        entry.abortedAt = now();
      }
      notify();
    });
    notify();

    if (body === undefined) {
      sendJson(res, 400, openAIError('We could not parse the JSON body of your request.', 'invalid_request_error', null));
      return;
    }
    if (options.requireApiKey !== undefined) {
      const given = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
      if (given !== options.requireApiKey) {
        sendJson(res, 401, openAIError(`Incorrect API key provided: ${given}. You can find your API key at https://platform.openai.com/account/api-keys.`, 'invalid_request_error', 'invalid_api_key'));
        return;
      }
    }
    const scenario = typeof scenarioSource === 'function' ? scenarioSource(entry) : scenarioSource;
    if (scenario.httpError !== undefined) {
      const { status, message, type, code, headers } = scenario.httpError;
      if (scenario.headersDelayMs !== undefined) await sleep(scenario.headersDelayMs);
      sendJson(res, status, openAIError(message, type ?? (status >= 500 ? 'server_error' : 'invalid_request_error'), code ?? null), headers);
      return;
    }
    const model = entry.model ?? defaultModel;
    if (entry.stream) await streamCompletion(res, scenario, entry, model);
    else answerOnce(res, scenario, entry, model);
  };

  const server: Server = createServer({ noDelay: true }, (req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, openAIError(String(error), 'server_error', null));
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port, address, family } = server.address() as AddressInfo;
  const host = family === 'IPv6' ? `[${address}]` : address;

  return {
    baseURL: `http://${host}:${port}/v1`,
    port,
    requests: recorded,
    setScenario(scenario) {
      scenarioSource = scenario;
    },
    waitForAbort(index, timeoutMs) {
      return waitUntil(() => {
        const entry = recorded.find((candidate) => candidate.index === index);
        return entry?.aborted === true ? entry : undefined;
      }, timeoutMs, `request ${index} to be aborted`);
    },
    waitForRequests(count, timeoutMs) {
      return waitUntil(() => (total >= count ? recorded : undefined), timeoutMs, `${count} request(s)`);
    },
    close() {
      return new Promise((resolve) => {
        // Stalled streams and the SDK's keep-alive connections would hold `close` open forever.
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
