import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SSE_HEARTBEAT, WxstreamError, errorBody, formatSseEvent, type ReplyEvent } from '@wxstream/protocol';
import { openReplyEvents, openReplyStream, supportsChunkedRequest, type OpenReplyStreamOptions } from '../src/wx-request-transport.ts';
import { FakeWxRequest, arrayBufferOf, utf8 } from './support/fake-wx-request.ts';
import { createSeededRandom, testSeed } from './support/seeded-random.ts';

const REPLY: ReplyEvent[] = [
  { id: 1, type: 'start', data: { conversationId: 'c-1', messageId: 'm-1', model: 'deepseek-reasoner' } },
  { id: 2, type: 'reasoning', data: { text: '用户在打招呼，' } },
  { id: 3, type: 'delta', data: { text: '你好！👨‍👩‍👧‍👦 欢迎 🇨🇳' } },
  { id: 4, type: 'delta', data: { text: '有什么可以帮你？\n第二行 "引号" 1️⃣' } },
  { id: 5, type: 'usage', data: { promptTokens: 9, completionTokens: 21 } },
  { id: 6, type: 'done', data: { finishReason: 'stop' } },
];

/** The reply as the server writes it, with a heartbeat between two events. */
const WIRE = REPLY.slice(0, 3).map(formatSseEvent).join('') + SSE_HEARTBEAT + REPLY.slice(3).map(formatSseEvent).join('');

/** The single error delivered; fails unless there is exactly one. */
function onlyError(errors: readonly WxstreamError[]): WxstreamError {
  assert.equal(errors.length, 1, `expected one error, got ${errors.map((e) => e.code).join(', ') || 'none'}`);
  return errors[0] as WxstreamError;
}

function open(extra: Partial<OpenReplyStreamOptions> = {}) {
  const fake = new FakeWxRequest();
  const events: ReplyEvent[] = [];
  const errors: WxstreamError[] = [];
  const calls: string[] = [];
  let heartbeats = 0;
  const handle = openReplyStream({
    request: fake.request,
    url: 'https://chat.example.com/api/chat',
    token: 'tok-123',
    body: { message: '你好', conversationId: 'c-1' },
    handlers: {
      onEvent: (event) => {
        events.push(event);
        calls.push(`event:${event.type}`);
      },
      onError: (error) => {
        errors.push(error);
        calls.push(`error:${error.code}`);
      },
      onHeartbeat: () => heartbeats++,
    },
    ...extra,
  });
  return { fake, events, errors, calls, handle, heartbeats: () => heartbeats };
}

test('the request is a chunked arraybuffer POST of the JSON body with a bearer token', () => {
  const { fake } = open({ timeoutMs: 90_000 });
  const { options } = fake.last;
  assert.equal(options.url, 'https://chat.example.com/api/chat');
  assert.equal(options.method, 'POST');
  assert.equal(options.enableChunked, true);
  assert.equal(options.responseType, 'arraybuffer');
  assert.notEqual(options.dataType, 'json');
  assert.equal(options.timeout, 90_000);
  assert.equal(options.header.Authorization, 'Bearer tok-123');
  assert.equal(options.header['Content-Type'], 'application/json');
  assert.deepEqual(JSON.parse(options.data ?? ''), { message: '你好', conversationId: 'c-1' });
});

test('without a token no Authorization header is sent', () => {
  const { fake } = open({ token: undefined });
  assert.equal('Authorization' in fake.last.options.header, false);
  assert.equal('timeout' in fake.last.options, false);
});

test('a reply cut into two chunks at every byte position arrives intact', () => {
  const bytes = utf8(WIRE);
  for (let cut = 0; cut <= bytes.length; cut++) {
    const { fake, events, errors } = open();
    fake.last.sendHeaders(200, { 'Content-Type': 'text/event-stream; charset=utf-8' });
    fake.last.sendBody(bytes, [cut]);
    fake.last.succeed();
    assert.deepEqual(events, REPLY, `cut at byte ${cut}`);
    assert.deepEqual(errors, []);
  }
});

test('a reply in one byte per chunk, with every UTF-8 character split, arrives intact', () => {
  const bytes = utf8(WIRE);
  const { fake, events, errors, heartbeats } = open();
  fake.last.sendHeaders(200);
  fake.last.sendBody(bytes, Array.from({ length: bytes.length }, (_, i) => i));
  fake.last.succeed();
  assert.deepEqual(events, REPLY);
  assert.deepEqual(errors, []);
  assert.equal(heartbeats(), 1);
});

test('many events merged into one chunk are all delivered, in order', () => {
  const { fake, events, calls } = open();
  fake.last.sendHeaders(200);
  fake.last.sendBody(WIRE);
  assert.deepEqual(events, REPLY);
  assert.deepEqual(calls, REPLY.map((e) => `event:${e.type}`));
});

test('random slicings of the byte stream always give the same events', () => {
  const random = createSeededRandom(testSeed(0x51ce));
  const bytes = utf8(WIRE);
  for (let round = 0; round < 200; round++) {
    const cuts = Array.from({ length: random.range(1, 40) }, () => random.int(bytes.length));
    const { fake, events, errors } = open();
    fake.last.sendHeaders(200);
    fake.last.sendBody(bytes, cuts);
    fake.last.succeed();
    assert.deepEqual(events, REPLY, `seed ${random.seed} round ${round}`);
    assert.deepEqual(errors, []);
  }
});

test('heartbeat comments reach both heartbeat callbacks and never become events', () => {
  let optionBeats = 0;
  const { fake, events, heartbeats } = open({ onHeartbeat: () => optionBeats++ });
  fake.last.sendHeaders(200);
  fake.last.sendBody(SSE_HEARTBEAT + SSE_HEARTBEAT + formatSseEvent(REPLY[0] as ReplyEvent) + SSE_HEARTBEAT);
  assert.equal(heartbeats(), 3);
  assert.equal(optionBeats, 3);
  assert.deepEqual(events, [REPLY[0]]);
});

test('after a done event nothing more is delivered and the request is released', () => {
  const { fake, events, errors } = open();
  const task = fake.last;
  task.sendHeaders(200);
  const extra = formatSseEvent({ id: 7, type: 'delta', data: { text: '多余' } });
  task.sendBody(WIRE + extra);
  task.sendChunk(utf8(extra), { evenIfRemoved: true });
  task.succeed();
  assert.deepEqual(events, REPLY);
  assert.deepEqual(errors, []);
  assert.equal(task.chunkListenerCount, 0);
  assert.equal(task.abortCalls, 1, 'a server that keeps the connection open after done is cut off');
});

test('an in-band error event is the one terminal callback', () => {
  const { fake, events, errors } = open();
  fake.last.sendHeaders(200);
  const error: ReplyEvent = { id: 3, type: 'error', data: { code: 'upstream_timeout', message: 'idle 30 s', retryable: true } };
  fake.last.sendBody(formatSseEvent(REPLY[0] as ReplyEvent) + formatSseEvent(REPLY[1] as ReplyEvent) + formatSseEvent(error));
  fake.last.succeed();
  assert.deepEqual(events, [REPLY[0], REPLY[1], error]);
  assert.deepEqual(errors, []);
});

test('an error status with a JSON body in chunks becomes that error, never text', () => {
  const body = JSON.stringify(errorBody('rate_limited', '每分钟最多 10 次'));
  const bytes = utf8(body);
  // Cut inside a Chinese character, and into many pieces.
  for (const cuts of [[bytes.indexOf(0xe6) + 1], Array.from({ length: bytes.length }, (_, i) => i)]) {
    const { fake, events, errors } = open();
    fake.last.sendHeaders(429, { 'Content-Type': 'application/json' });
    fake.last.sendBody(bytes, cuts);
    assert.deepEqual(errors, [], 'the body is only read at the end');
    fake.last.succeed(429);
    assert.deepEqual(events, []);
    const error = onlyError(errors);
    assert.ok(error instanceof WxstreamError);
    assert.equal(error.code, 'rate_limited');
    assert.equal(error.message, '每分钟最多 10 次');
    assert.equal(error.status, 429);
    assert.equal(error.retryable, true);
  }
});

test('an error body that looks like events is still an error', () => {
  const { fake, events, errors } = open();
  fake.last.sendHeaders(500);
  fake.last.sendBody(WIRE);
  fake.last.succeed(500);
  assert.deepEqual(events, []);
  assert.equal(errors.length, 1);
  assert.equal(errors[0]?.code, 'http_error');
  assert.equal(errors[0]?.status, 500);
});

test('an HTML error page becomes http_error with the status, retryable only where retrying helps', () => {
  const page = '<html><head><title>502 Bad Gateway</title></head>\n<body>nginx</body></html>';
  const gateway = open();
  gateway.fake.last.sendHeaders(502, { 'Content-Type': 'text/html' });
  gateway.fake.last.sendBody(page, [10, 30]);
  gateway.fake.last.succeed(502);
  const error = onlyError(gateway.errors);
  assert.equal(error.code, 'http_error');
  assert.equal(error.status, 502);
  assert.equal(error.retryable, true);
  assert.match(error.message, /^HTTP 502: <html><head><title>502 Bad Gateway/);
  assert.deepEqual(gateway.events, []);

  const forbidden = open();
  forbidden.fake.last.sendHeaders(403, { 'Content-Type': 'text/html' });
  forbidden.fake.last.sendBody('<h1>Forbidden</h1>');
  forbidden.fake.last.succeed(403);
  assert.equal(forbidden.errors[0]?.code, 'http_error');
  assert.equal(forbidden.errors[0]?.retryable, false);
});

// Community reports: with enableChunked, some clients hand neither a chunk nor a `success.data` of an error
// answer; the status alone must still mean what the server meant.
const BODYLESS: readonly { name: string; deliver: (task: ReturnType<typeof open>['fake']['last'], status: number, header: Record<string, string>) => void }[] = [
  { name: 'an empty body', deliver: (task, status, header) => task.succeed(status, new ArrayBuffer(0), header) },
  { name: 'no body at all', deliver: (task, status, header) => task.succeed(status, undefined as unknown as ArrayBuffer, header) },
  { name: 'a non-JSON body', deliver: (task, status, header) => task.succeed(status, arrayBufferOf('<html>oops</html>'), header) },
  {
    name: 'a status in the headers and an empty chunked body',
    deliver: (task, status, header) => {
      task.sendHeaders(status, header);
      task.succeed(status, new ArrayBuffer(0), header);
    },
  },
];

const STATUS_MEANINGS: readonly { status: number; code: string; retryable: boolean }[] = [
  { status: 401, code: 'invalid_token', retryable: false },
  { status: 404, code: 'not_found', retryable: false },
  { status: 409, code: 'reply_in_progress', retryable: true },
  { status: 413, code: 'payload_too_large', retryable: false },
  { status: 429, code: 'rate_limited', retryable: true },
  { status: 500, code: 'http_error', retryable: true },
  { status: 502, code: 'http_error', retryable: true },
  { status: 503, code: 'http_error', retryable: true },
  { status: 504, code: 'http_error', retryable: true },
];

test('an error status without a readable body maps to the code the status means', () => {
  for (const body of BODYLESS) {
    for (const { status, code, retryable } of STATUS_MEANINGS) {
      const { fake, events, errors } = open();
      body.deliver(fake.last, status, {});
      const error = onlyError(errors);
      assert.equal(error.code, code, `${status} with ${body.name}`);
      assert.equal(error.status, status, `${status} with ${body.name}`);
      assert.equal(error.retryable, retryable, `${status} with ${body.name}`);
      assert.deepEqual(events, []);
    }
  }
});

test('a 429 without a body keeps the Retry-After it was sent with', () => {
  for (const body of BODYLESS) {
    const { fake, errors } = open();
    body.deliver(fake.last, 429, { 'Retry-After': '17' });
    const error = onlyError(errors);
    assert.equal(error.code, 'rate_limited', body.name);
    assert.equal(error.retryAfterSeconds, 17, body.name);
  }
  const withBody = open();
  withBody.fake.last.succeed(429, arrayBufferOf(JSON.stringify(errorBody('quota_exceeded', 'quota'))), { 'retry-after': '3600' });
  assert.equal(onlyError(withBody.errors).code, 'quota_exceeded');
  assert.equal(onlyError(withBody.errors).retryAfterSeconds, 3600);
});

test('the events route answering 404 with no body is an expired reply', () => {
  const fake = new FakeWxRequest();
  const errors: WxstreamError[] = [];
  openReplyEvents({
    request: fake.request,
    url: 'https://chat.example.com/api/chat/m-1/events',
    lastEventId: 12,
    handlers: { onEvent: () => assert.fail('no event'), onError: (error) => errors.push(error) },
  });
  fake.last.sendHeaders(404, {});
  fake.last.succeed(404, new ArrayBuffer(0));
  assert.equal(onlyError(errors).code, 'not_found');
});

test('onOpen runs once, at the headers or the first byte, and never for a request still silent', () => {
  const opened: string[] = [];
  const headersFirst = open({ handlers: { onEvent: () => opened.push('event'), onError: () => opened.push('error'), onOpen: () => opened.push('open') } });
  assert.equal(opened.length, 0, 'nothing before the server answers');
  headersFirst.fake.last.sendHeaders(200, { 'Content-Type': 'text/event-stream' });
  headersFirst.fake.last.sendBody(formatSseEvent(REPLY[0] as ReplyEvent));
  assert.deepEqual(opened, ['open', 'event']);

  opened.length = 0;
  const bodyOnly = open({ handlers: { onEvent: () => opened.push('event'), onError: () => opened.push('error'), onOpen: () => opened.push('open') } });
  bodyOnly.fake.last.succeed(200, arrayBufferOf(WIRE));
  assert.equal(opened[0], 'open', 'a body handed over whole opens at its end');
  assert.equal(opened.filter((what) => what === 'open').length, 1);
});

test('a known error body on a status without headers status (DevTools) is read from success', () => {
  const { fake, events, errors } = open();
  fake.last.sendHeaders(undefined, { 'content-type': 'application/json; charset=utf-8' });
  fake.last.sendBody(JSON.stringify(errorBody('token_expired', 'token expired')), [5]);
  fake.last.succeed(401);
  assert.deepEqual(events, []);
  assert.equal(errors[0]?.code, 'token_expired');
  assert.equal(errors[0]?.status, 401);
  assert.equal(errors[0]?.retryable, false);
});

test('without a status in the headers an event-stream content type streams at once', () => {
  const { fake, events } = open();
  fake.last.sendHeaders(undefined, { 'Content-Type': 'text/event-stream; charset=utf-8' });
  fake.last.sendBody(formatSseEvent(REPLY[0] as ReplyEvent));
  assert.deepEqual(events, [REPLY[0]], 'delivered before success');
});

test('chunks that come before any headers event are held, then parsed once the status is known', () => {
  const { fake, events, errors } = open();
  fake.last.sendBody(WIRE, [7, 100]);
  assert.deepEqual(events, []);
  fake.last.succeed(200);
  assert.deepEqual(events, REPLY);
  assert.deepEqual(errors, []);
});

test('a platform that delivers no chunks but the whole body in success is parsed the same way', () => {
  const asBuffer = open();
  asBuffer.fake.last.sendHeaders(200);
  asBuffer.fake.last.succeed(200, arrayBufferOf(WIRE));
  assert.deepEqual(asBuffer.events, REPLY);
  assert.deepEqual(asBuffer.errors, []);

  const asString = open();
  asString.fake.last.succeed(200, WIRE);
  assert.deepEqual(asString.events, REPLY);
  assert.deepEqual(asString.errors, []);
});

test('a full error body in success, as bytes, string or parsed object, becomes the error', () => {
  const body = errorBody('message_too_long', 'at most 4000 characters');
  const forms: (ArrayBuffer | string | Record<string, unknown>)[] = [arrayBufferOf(JSON.stringify(body)), JSON.stringify(body), { ...body }];
  for (const data of forms) {
    const { fake, errors, events } = open();
    fake.last.succeed(400, data);
    assert.deepEqual(events, []);
    assert.equal(errors.length, 1);
    assert.equal(errors[0]?.code, 'message_too_long');
    assert.equal(errors[0]?.status, 400);
  }
});

test('a stream that ends without done or error is reported as interrupted after its events', () => {
  const { fake, events, errors, calls } = open();
  fake.last.sendHeaders(200);
  fake.last.sendBody(REPLY.slice(0, 3).map(formatSseEvent).join('') + 'id: 4\nevent: delta\ndata: {"text":"半');
  fake.last.succeed(200);
  assert.deepEqual(events, REPLY.slice(0, 3));
  assert.equal(errors.length, 1);
  assert.equal(errors[0]?.code, 'stream_interrupted');
  assert.equal(calls[calls.length - 1], 'error:stream_interrupted');
});

test('a failure before any event is a network error; after events it is an interruption', () => {
  const before = open();
  before.fake.last.fail('request:fail timeout', 5);
  assert.deepEqual(before.events, []);
  assert.equal(before.errors.length, 1);
  assert.equal(before.errors[0]?.code, 'network_error');
  assert.match(before.errors[0]?.message ?? '', /request:fail timeout/);

  const after = open();
  after.fake.last.sendHeaders(200);
  after.fake.last.sendBody(formatSseEvent(REPLY[0] as ReplyEvent) + formatSseEvent(REPLY[2] as ReplyEvent));
  after.fake.last.fail('request:fail socket closed');
  assert.equal(after.events.length, 2);
  assert.equal(after.errors.length, 1);
  assert.equal(after.errors[0]?.code, 'stream_interrupted');
  after.fake.last.succeed(200);
  assert.equal(after.errors.length, 1, 'one terminal callback only');
});

test('stop aborts the request, detaches the chunk listener and silences everything after it', () => {
  const { fake, events, errors, handle } = open();
  const task = fake.last;
  task.sendHeaders(200);
  task.sendBody(REPLY.slice(0, 3).map(formatSseEvent).join(''));
  handle.stop();
  assert.equal(task.abortCalls, 1);
  assert.ok(task.offChunkCalls >= 1);
  assert.equal(task.chunkListenerCount, 0);
  assert.deepEqual(errors, [], 'the abort failure after stop is silent');
  task.sendChunk(utf8(formatSseEvent(REPLY[3] as ReplyEvent)), { evenIfRemoved: true });
  task.sendHeaders(200);
  task.succeed(200, WIRE);
  task.fail('request:fail abort');
  handle.stop();
  assert.equal(task.abortCalls, 1, 'a second stop does nothing');
  assert.deepEqual(events, REPLY.slice(0, 3));
  assert.deepEqual(errors, []);
});

test('stop from inside an event callback delivers nothing further from the same chunk', () => {
  const fake = new FakeWxRequest();
  const seen: string[] = [];
  const handle = openReplyStream({
    request: fake.request,
    url: 'https://chat.example.com/api/chat',
    body: { message: 'hi' },
    handlers: {
      onEvent: (event) => {
        seen.push(event.type);
        if (event.type === 'reasoning') handle.stop();
      },
      onError: (error) => seen.push(`error:${error.code}`),
    },
  });
  fake.last.sendHeaders(200);
  fake.last.sendBody(WIRE);
  assert.deepEqual(seen, ['start', 'reasoning']);
  assert.equal(fake.last.abortCalls, 1);
});

test('a malformed event stops the stream with bad_response', () => {
  const { fake, events, errors } = open();
  fake.last.sendHeaders(200);
  fake.last.sendBody(
    formatSseEvent(REPLY[0] as ReplyEvent) + 'id: 2\nevent: delta\ndata: {"text":42}\n\n' + formatSseEvent(REPLY[2] as ReplyEvent),
  );
  fake.last.succeed(200);
  assert.deepEqual(events, [REPLY[0]]);
  assert.equal(errors.length, 1);
  assert.equal(errors[0]?.code, 'bad_response');
  assert.equal(fake.last.abortCalls, 1);
});

test('an event type from a newer server is skipped, not treated as malformed', () => {
  const { fake, events, errors } = open();
  fake.last.sendHeaders(200);
  fake.last.sendBody('id: 9\nevent: tool_call\ndata: {"name":"search"}\n\n' + WIRE);
  assert.deepEqual(events, REPLY);
  assert.deepEqual(errors, []);
});

test('on a base library without enableChunked it fails at once with unsupported_platform and sends nothing', () => {
  const { fake, errors, events } = open({ chunkedSupported: false });
  assert.equal(fake.tasks.length, 0);
  assert.deepEqual(events, []);
  assert.equal(errors.length, 1);
  assert.equal(errors[0]?.code, 'unsupported_platform');
  assert.equal(errors[0]?.retryable, false);
  assert.match(errors[0]?.message ?? '', /2\.20\.2/);
});

test('a wx.request that throws becomes a network error', () => {
  const errors: WxstreamError[] = [];
  openReplyStream({
    request: () => {
      throw new Error('invalid url');
    },
    url: 'not a url',
    body: { message: 'hi' },
    handlers: { onEvent: () => assert.fail('no event expected'), onError: (error) => errors.push(error) },
  });
  assert.equal(errors.length, 1);
  assert.equal(errors[0]?.code, 'network_error');
  assert.match(errors[0]?.message ?? '', /invalid url/);
});

test('supportsChunkedRequest compares base library versions numerically against 2.20.2', () => {
  const cases: [string, boolean][] = [
    ['2.20.2', true],
    ['2.20.10', true],
    ['2.21', true],
    ['3.0.0', true],
    ['2.20.1', false],
    ['2.3.0', false],
    ['1.9.99', false],
    ['2.20', false],
    ['', false],
    ['beta', false],
    ['2.x.1', false],
  ];
  for (const [version, expected] of cases) assert.equal(supportsChunkedRequest(version), expected, version);
});

function openEvents(lastEventId: number, url = 'https://chat.example.com/api/chat/m-1/events') {
  const fake = new FakeWxRequest();
  const events: ReplyEvent[] = [];
  const errors: WxstreamError[] = [];
  const handle = openReplyEvents({
    request: fake.request,
    url,
    token: 'tok-123',
    lastEventId,
    handlers: { onEvent: (event) => events.push(event), onError: (error) => errors.push(error) },
  });
  return { fake, events, errors, handle };
}

test('resuming GETs the events route with the last event id in the query and the Last-Event-ID header, and no body', () => {
  const { fake } = openEvents(3);
  const { options } = fake.last;
  assert.equal(options.method, 'GET');
  assert.equal(options.url, 'https://chat.example.com/api/chat/m-1/events?lastEventId=3');
  assert.equal(options.header['Last-Event-ID'], '3');
  assert.equal(options.header.Authorization, 'Bearer tok-123');
  assert.equal(options.header.Accept, 'text/event-stream');
  assert.equal('Content-Type' in options.header, false);
  assert.equal('data' in options, false);
  assert.equal(options.enableChunked, true);
  assert.equal(options.responseType, 'arraybuffer');
  assert.equal(openEvents(0, 'https://chat.example.com/api/chat/m-1/events?v=1').fake.last.options.url, 'https://chat.example.com/api/chat/m-1/events?v=1&lastEventId=0');
});

test('a replay cut at every byte position goes through the same decoder and parser as the chat stream', () => {
  const replay = REPLY.slice(3);
  const bytes = utf8(replay.map(formatSseEvent).join(''));
  for (let cut = 0; cut <= bytes.length; cut += 3) {
    const { fake, events, errors } = openEvents(3);
    fake.last.sendHeaders(200, { 'Content-Type': 'text/event-stream' });
    fake.last.sendBody(bytes, [cut, cut + 1]);
    fake.last.succeed();
    assert.deepEqual(events, replay, `cut at byte ${cut}`);
    assert.equal(errors.length, 0);
  }
});

test('an expired reply answers 404 not_found on the events route, as a non-retryable error', () => {
  const { fake, events, errors } = openEvents(5);
  fake.last.sendHeaders(404, { 'Content-Type': 'application/json' });
  fake.last.sendBody(JSON.stringify(errorBody('not_found', 'no such reply')));
  fake.last.succeed(404);
  const error = onlyError(errors);
  assert.equal(error.code, 'not_found');
  assert.equal(error.retryable, false);
  assert.equal(error.status, 404);
  assert.equal(events.length, 0);
});
