/**
 * A seeded, bounded fuzz of every route: random methods, paths, headers and bodies — well-formed,
 * malformed and hostile — sent as raw bytes over real sockets to the real server. Whatever comes
 * in, the server never answers an undocumented 5xx (a 5xx must carry a protocol code documented
 * with that status, never `internal_error`), never logs at error level (none of this is our
 * fault), never hangs a request past the hang guard, answers `/healthz` throughout, and ends with
 * no reply in flight and its sockets, timers and file descriptors back to the baseline.
 *
 * The seed is printed on failure; `WXSTREAM_SEED=<seed>` replays a run exactly. Every check is a
 * count or a membership, never a duration: the timeouts below only bound how long a client that
 * stops sending can hold a socket (that is what HEADERS/REQUEST_TIMEOUT_MS are for).
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { test } from 'node:test';
import { ERROR_CODES, isErrorCode } from '@wxstream/protocol';
import { createSeededRandom, type SeededRandom } from '../../../packages/client/test/support/seeded-random.ts';
import { excessOver, resourceCounts } from './support/active-resources.ts';
import { eventually, PATIENCE_MS } from './support/eventually.ts';
import { chatRequest, login, send } from './support/http-client.ts';
import { startStack } from './support/test-server.ts';

const SEED = Number(process.env.WXSTREAM_SEED ?? 20261208);
const PROBES = 600;
const CONCURRENCY = 8;

interface Probe {
  readonly label: string;
  readonly bytes: Buffer;
}

interface Outcome {
  readonly label: string;
  /** The status line's code, or undefined when the server closed without answering. */
  readonly status: number | undefined;
  readonly body: string;
}

/** Mostly the methods the routes take, so most probes reach a handler; the rest test the parser and router. */
const METHODS = ['GET', 'GET', 'POST', 'POST', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'TRACE', 'PROPFIND', 'CONNECT', 'get', 'BREW'];
const FRAMINGS = ['length', 'length', 'length', 'length', 'length', 'length', 'chunked', 'chunked', 'chunked-broken', 'short', 'long', 'both', 'negative', 'none'];

function randomText(random: SeededRandom, length: number): string {
  const alphabets = ['abc xyz', '你好世界，。！', '😀👨‍👩‍👧🇨🇳', '\u200B\u202E\u2066\uFEFF', '\u0000\u0007\u001B\u007F', '"\\/\n\r\t', '<script>\'; DROP TABLE users;--'];
  let text = '';
  while (text.length < length) {
    const alphabet = random.pick(alphabets);
    text += [...alphabet][random.int([...alphabet].length)] ?? '';
  }
  return text;
}

function randomId(random: SeededRandom): string {
  return random.pick(['abc', 'c_' + 'x'.repeat(random.range(1, 200)), '..', '%2e%2e', '%00', '%ff%fe', '😀', 'a/b', '-h', ' ', '../../etc/passwd', '1e9', 'null']);
}

function randomPath(random: SeededRandom): string {
  const id = randomId(random);
  const query = random.chance(0.3)
    ? `?${random.pick(['lastEventId=-1', 'lastEventId=1&lastEventId=2', 'limit=0', 'limit=99999', 'cursor=%ff', 'exp=1&sig=AAAA', `lastEventId=${'9'.repeat(40)}`, 'a[b]=c', '%zz'])}`
    : '';
  return (
    random.pick([
      '/api/chat',
      `/api/chat/${id}/events`,
      `/api/chat/${id}/stop`,
      '/api/conversations',
      `/api/conversations/${id}`,
      '/api/auth/login',
      `/api/audio/${id}`,
      '/healthz',
      '/metrics',
      `/${randomText(random, 5)}`,
      '/api/chat/',
      '//api//chat',
      `/api/${'a'.repeat(random.range(1, 12_000))}`,
      '*',
      'http://evil.example/api/chat',
    ]) + query
  );
}

function randomBody(random: SeededRandom, tokenless: boolean): Buffer {
  const message = randomText(random, random.range(0, random.chance(0.1) ? 70_000 : 60));
  const json = random.pick<unknown>([
    { message },
    { message, conversationId: randomId(random) },
    { message, voice: true, voiceName: random.pick(['.', '..', '-h', 'auto', 'en-us', randomText(random, 4)]) },
    { message: random.pick([42, null, [], {}, true]) },
    { title: random.pick([message, 7, '', '\u200B']) },
    { code: random.pick([message, '', 'x'.repeat(200), 12]) },
    [],
    null,
    'just a string',
    { __proto__: { polluted: true }, constructor: { prototype: { polluted: true } }, message },
  ]);
  const raw = random.pick([
    () => Buffer.from(JSON.stringify(json) ?? 'null', 'utf8'),
    () => Buffer.from(JSON.stringify(json) ?? 'null', 'utf8'),
    () => Buffer.from('{', 'utf8'),
    () => Buffer.from('"\\ud800"', 'utf8'),
    () => Buffer.from('{"message":"\\ud83d"}', 'utf8'),
    () => Buffer.from(`${'['.repeat(20_000)}${']'.repeat(20_000)}`, 'utf8'),
    () => Buffer.from([0xff, 0xfe, 0x7b, 0x80, 0xc3]),
    () => Buffer.alloc(random.range(0, 100_000), 0x61),
    () => Buffer.alloc(0),
  ])();
  return tokenless && random.chance(0.5) ? Buffer.from(JSON.stringify({ code: randomText(random, 10) })) : raw;
}

function makeProbe(random: SeededRandom, tokens: readonly string[], index: number): Probe {
  const method = random.pick(METHODS);
  const path = randomPath(random);
  const token = random.pick(tokens);
  const headers: string[] = [];
  if (!random.chance(0.05)) headers.push('Host: fuzz');
  const auth = random.pick([undefined, `Bearer ${token}`, `Bearer ${token}`, 'Bearer junk.junk', `Bearer ${'A'.repeat(5000)}`, 'Basic Zm9vOmJhcg==', 'Bearer']);
  if (auth !== undefined) headers.push(`Authorization: ${auth}`);
  headers.push(
    ...[
      random.chance(0.7) ? `Content-Type: ${random.pick(['application/json', 'application/json; charset=utf-8', 'application/json; charset=latin1', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x'])}` : '',
      random.chance(0.2) ? `Last-Event-ID: ${random.pick(['0', '-1', 'abc', '99999999999999999999', '1.5'])}` : '',
      random.chance(0.2) ? `X-Forwarded-For: ${random.pick(['1.2.3.4', 'garbage', '::1, 10.0.0.1', '300.1.1.1'])}` : '',
      random.chance(0.2) ? `X-Request-Id: ${random.pick(['abc', 'bad id {"level":60}', 'x'.repeat(300)])}` : '',
      random.chance(0.1) ? `Range: ${random.pick(['bytes=0-1', 'bytes=-5', 'bytes=9-1', 'bytes=0-1,2-3', 'pages=1'])}` : '',
      random.chance(0.05) ? `X-Huge: ${'h'.repeat(20_000)}` : '',
      random.chance(0.05) ? 'Bad Header Name: x' : '',
      random.chance(0.05) ? 'Expect: 100-continue' : '',
    ].filter((line) => line !== ''),
  );
  const body = method === 'GET' && random.chance(0.7) ? Buffer.alloc(0) : randomBody(random, auth === undefined);
  const framing = random.pick(FRAMINGS);
  let payload = body;
  switch (framing) {
    case 'length':
      headers.push(`Content-Length: ${body.length}`);
      break;
    case 'chunked':
      headers.push('Transfer-Encoding: chunked');
      payload = Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from(body.length > 0 ? '\r\n0\r\n\r\n' : '\r\n')]);
      break;
    case 'chunked-broken':
      headers.push('Transfer-Encoding: chunked');
      payload = Buffer.concat([Buffer.from('zz\r\n'), body]);
      break;
    case 'short':
      headers.push(`Content-Length: ${Math.max(0, body.length - 3)}`);
      break;
    case 'long':
      // The client stops sending before the body it declared: REQUEST_TIMEOUT_MS ends it.
      headers.push(`Content-Length: ${body.length + 10}`);
      break;
    case 'both':
      headers.push(`Content-Length: ${body.length}`, 'Transfer-Encoding: chunked');
      break;
    case 'negative':
      headers.push('Content-Length: -1');
      break;
    default:
      break;
  }
  headers.push('Connection: close');
  const requestLine = random.chance(0.03) ? random.pick(['GARBAGE\r\n', `${method} ${path}\r\n`, `${method} ${path} HTTP/9.9\r\n`, '\u0000\u0001\u0002\r\n']) : `${method} ${path} HTTP/1.1\r\n`;
  const head = Buffer.from(`${requestLine}${headers.join('\r\n')}\r\n\r\n`, 'latin1');
  return { label: `#${index} ${method} ${path.slice(0, 80)} [${framing}, ${body.length} B]`, bytes: Buffer.concat([head, payload]) };
}

/** Sends the bytes, half-closes nothing, reads until the server closes; rejects at the hang guard. */
function exchange(port: number, probe: Probe): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(port, '127.0.0.1', () => socket.write(probe.bytes, () => undefined));
    const guard = setTimeout(() => {
      socket.destroy();
      reject(new Error(`hung: ${probe.label}`));
    }, PATIENCE_MS);
    socket.on('data', (bytes: Buffer) => chunks.push(bytes));
    socket.on('error', () => undefined);
    socket.once('close', () => {
      clearTimeout(guard);
      // An interim "100 Continue" comes first when the probe asked for it: the answer is the next one.
      const raw = Buffer.concat(chunks).toString('utf8').replace(/^HTTP\/1\.1 100 [^\r]*\r\n\r\n/, '');
      const match = /^HTTP\/1\.1 (\d{3}) /.exec(raw);
      resolve({ label: probe.label, status: match === null ? undefined : Number(match[1]), body: raw.slice(raw.indexOf('\r\n\r\n') + 4) });
    });
  });
}

/** A 5xx is only acceptable when it is a documented protocol code with that status (busy, shutdown, upstream…). */
function undocumentedServerError(outcome: Outcome): string | undefined {
  if (outcome.status === undefined || outcome.status < 500) return undefined;
  let code: unknown;
  try {
    code = (JSON.parse(outcome.body) as { error?: { code?: unknown } }).error?.code;
  } catch {
    code = undefined;
  }
  if (isErrorCode(code) && code !== 'internal_error' && ERROR_CODES[code].status === outcome.status) return undefined;
  return `${outcome.label} → ${outcome.status} ${outcome.body.slice(0, 200)}`;
}

function openFileDescriptors(): number {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return 0;
  }
}

test(`${PROBES} random requests over every route never get an undocumented 5xx, never crash or hang the server, and leave nothing behind (seed ${SEED})`, async () => {
  const stack = await startStack({
    env: { HEADERS_TIMEOUT_MS: '1000', REQUEST_TIMEOUT_MS: '1500', MAX_STREAMS_PER_USER: '4', MAX_READERS_PER_REPLY: '4' },
    scenario: { content: ['好的', '，', '收到。'] },
  });
  try {
    const port = stack.app.server.port;
    const tokens = await Promise.all(['fuzz-a', 'fuzz-b', 'fuzz-c', 'fuzz-d'].map((code) => login(stack.url, code)));
    // Warm up every path that creates lasting state (the SDK's pool, the store), then take the baseline.
    assert.equal((await send(stack.url, '/api/chat', chatRequest(tokens[0] ?? '', { message: 'warm up' }))).status, 200);
    await eventually(() => stack.app.server.activeReplies === 0, 'the warm-up reply to finish');
    const baselineResources = resourceCounts();
    const baselineFds = openFileDescriptors();
    const baselineHeap = process.memoryUsage().heapUsed;

    const random = createSeededRandom(SEED);
    const probes = Array.from({ length: PROBES }, (_, index) => makeProbe(random, tokens, index));
    const outcomes: Outcome[] = [];
    const healthChecks: number[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < probes.length) {
          const probe = probes[next] as Probe;
          next += 1;
          outcomes.push(await exchange(port, probe));
          if (next % 25 === 0) healthChecks.push((await send(stack.url, '/healthz')).status);
        }
      }),
    );

    assert.equal(outcomes.length, PROBES);
    assert.deepEqual(outcomes.map(undocumentedServerError).filter((found) => found !== undefined), [], `seed ${SEED}`);
    assert.ok(healthChecks.length >= PROBES / 25 - CONCURRENCY && healthChecks.every((status) => status === 200), `healthz throughout: ${healthChecks.join(', ')}`);
    const statuses = new Set(outcomes.map((outcome) => outcome.status));
    assert.ok(statuses.has(200) && statuses.has(400) && statuses.has(401) && statuses.has(404), `the fuzz reached real handlers: ${[...statuses].join(', ')}`);
    const errors = stack.app.logs.filter((record) => record.level >= 50);
    assert.deepEqual(errors.map((record) => record.msg), [], 'nothing a client sent is logged as our error');

    await eventually(() => stack.app.server.activeReplies === 0, 'no reply in flight');
    await eventually(() => excessOver(baselineResources).length === 0 && openFileDescriptors() <= baselineFds, 'sockets, timers and files back to the baseline').catch(() => undefined);
    assert.deepEqual(excessOver(baselineResources), [], 'no socket, timer or process left behind');
    assert.ok(openFileDescriptors() <= baselineFds, `file descriptors ${openFileDescriptors()} > ${baselineFds}`);
    // Generous: the fuzz bodies are up to 100 KB each and V8 collects when it likes; a leak of every
    // request's body or socket would still pass nothing like this bound over a longer run.
    assert.ok(process.memoryUsage().heapUsed - baselineHeap < 256 * 1024 * 1024, 'the heap is bounded');
    assert.equal((await send(stack.url, '/healthz')).status, 200);
  } finally {
    await stack.close();
  }
});
