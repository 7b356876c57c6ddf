/**
 * Reading the provider's stream below the `openai` SDK: the chat-completion chunk reader
 * (`chat-completion-stream.ts`) keeps the SDK's semantics whatever way the bytes are cut, and the
 * SDK's `fetch` over `node:http` (`node-http-fetch.ts`) sends what it is given, hands the body over
 * as a Node stream, and aborts and fails the way `fetch` does.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { APIError } from 'openai';
import { createSeededRandom } from '../../../packages/client/test/support/seeded-random.ts';
import { chatCompletionChunks } from '../src/upstream/chat-completion-stream.ts';
import { createNodeHttpFetch, nodeBodyOf } from '../src/upstream/node-http-fetch.ts';
import { mapUpstreamError } from '../src/upstream/upstream-error.ts';
import type { UpstreamChunk } from '../src/upstream/upstream-model.ts';

const chunk = (content: string): UpstreamChunk => ({ choices: [{ index: 0, delta: { content }, finish_reason: null }] });
const frame = (value: unknown) => `data: ${JSON.stringify(value)}\n\n`;
const CHUNKS = [chunk('你好'), chunk('，世界 🌏'), chunk(' done'), { choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }, { choices: [], usage: { prompt_tokens: 3, completion_tokens: 4 } }];
const STREAM = `: keep-alive\r\n\r\n${CHUNKS.map(frame).join('')}data: [DONE]\n\n${frame(chunk('after DONE'))}`;

async function collect(chunks: AsyncIterable<UpstreamChunk>): Promise<UpstreamChunk[]> {
  const seen: UpstreamChunk[] = [];
  for await (const value of chunks) seen.push(value);
  return seen;
}

/** Writes `bytes` into a body in the given cuts, a tick apart, then ends it. */
function bodyOf(bytes: Buffer, cuts: readonly number[]): PassThrough {
  const body = new PassThrough();
  void (async () => {
    let from = 0;
    for (const at of [...cuts, bytes.length]) {
      body.write(bytes.subarray(from, at));
      from = at;
      await new Promise((resolve) => setImmediate(resolve));
    }
    body.end();
  })();
  return body;
}

describe('the chat-completion chunk reader', () => {
  test('yields the same chunks however the bytes are cut (through CRLFs and multi-byte characters), and ignores what follows [DONE]', async () => {
    const bytes = Buffer.from(STREAM, 'utf8');
    const random = createSeededRandom(13);
    for (let run = 0; run < 200; run += 1) {
      const cuts = Array.from({ length: random.range(1, 12) }, () => random.range(1, bytes.length - 1)).sort((a, b) => a - b);
      assert.deepEqual(await collect(chatCompletionChunks(bodyOf(bytes, cuts), new Headers())), CHUNKS, `cuts ${cuts.join(',')}`);
    }
  });

  test('a chunk with an error fails the stream with the SDK’s APIError, after the chunks before it', async () => {
    const body = bodyOf(Buffer.from(`${frame(chunk('a'))}${frame({ error: { message: 'overloaded', type: 'server_error' } })}${frame(chunk('b'))}`), []);
    const seen: UpstreamChunk[] = [];
    await assert.rejects(
      (async () => {
        for await (const value of chatCompletionChunks(body, new Headers())) seen.push(value);
      })(),
      (error: unknown) => {
        assert.ok(error instanceof APIError);
        assert.deepEqual(mapUpstreamError(error, { phase: 'mid-stream', secrets: [] }).toWire(), { code: 'upstream_error', message: 'Model provider: overloaded', retryable: true });
        return true;
      },
    );
    assert.deepEqual(seen, [chunk('a')]);
    assert.equal(body.destroyed, true, 'the provider connection is closed');
  });

  test('data that is not JSON fails the stream', async () => {
    await assert.rejects(collect(chatCompletionChunks(bodyOf(Buffer.from('data: {"choices": [\n\n'), []), new Headers())), SyntaxError);
  });

  test('a body cut before its end fails the stream; an abort of our own ends it silently', async () => {
    const cut = new PassThrough();
    const reading = collect(chatCompletionChunks(cut, new Headers()));
    cut.write(frame(chunk('a')));
    await new Promise((resolve) => setImmediate(resolve));
    cut.destroy();
    await assert.rejects(reading, /closed the connection before the stream ended/);

    const aborted = new PassThrough();
    const silent = collect(chatCompletionChunks(aborted, new Headers()));
    aborted.write(frame(chunk('a')));
    await new Promise((resolve) => setImmediate(resolve));
    aborted.destroy(new DOMException('This operation was aborted', 'AbortError'));
    assert.deepEqual(await silent, [chunk('a')]);
  });

  test('a consumer that stops early closes the body', async () => {
    const body = new PassThrough();
    body.write(frame(chunk('a')) + frame(chunk('b')));
    for await (const value of chatCompletionChunks(body, new Headers())) {
      assert.deepEqual(value, chunk('a'));
      break;
    }
    assert.equal(body.destroyed, true);
  });

  test('the body is paused while many parsed chunks wait for the consumer, and resumed once they are taken', async () => {
    const body = new PassThrough();
    const iterator = chatCompletionChunks(body, new Headers())[Symbol.asyncIterator]();
    body.write(Array.from({ length: 100 }, (_, index) => frame(chunk(String(index)))).join(''));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(body.isPaused(), true);
    for (let index = 0; index < 100; index += 1) assert.deepEqual((await iterator.next()).value, chunk(String(index)));
    assert.equal(body.isPaused(), false);
    body.end();
    assert.equal((await iterator.next()).done, true);
  });
});

describe('fetch over node:http', () => {
  let server: Server;
  let url: string;
  const seen: Array<{ method: string | undefined; headers: IncomingMessage['headers']; body: string; port: number | undefined }> = [];
  const closedEarly: string[] = [];
  let hangArrived: () => void = () => undefined;

  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (text: string) => (body += text));
      req.on('end', () => {
        seen.push({ method: req.method, headers: req.headers, body, port: req.socket.remotePort });
        res.on('close', () => {
          if (!res.writableFinished) closedEarly.push(req.url ?? '');
        });
        if (req.url === '/refuse') {
          res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '2' }).end('{"error":{"message":"slow down"}}');
        } else if (req.url === '/hang') {
          // Never answers: the caller aborts before the headers.
          hangArrived();
        } else if (req.url === '/stream') {
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          res.write('data: {"a":1}\n\n');
        } else {
          res.writeHead(200, { 'content-type': 'text/plain' }).end(`echo ${body}`);
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  test('sends the method, headers and body it is given; the body can be read as a Node stream or as usual, over kept-alive connections', async () => {
    const nodeFetch = createNodeHttpFetch();
    const first = await nodeFetch(`${url}/echo`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: 'Bearer sk-x' }, body: '{"x":"é"}' });
    assert.equal(first.status, 200);
    assert.equal(first.headers.get('content-type'), 'text/plain');
    const stream = nodeBodyOf(first);
    assert.ok(stream !== undefined);
    let text = '';
    for await (const bytes of stream) text += String(bytes);
    assert.equal(text, 'echo {"x":"é"}');
    const second = await nodeFetch(`${url}/echo`, { method: 'POST', body: 'again' });
    assert.equal(await second.text(), 'echo again');
    const [a, b] = seen.slice(-2);
    assert.equal(a?.method, 'POST');
    assert.equal(a?.headers.authorization, 'Bearer sk-x');
    assert.equal(a?.headers['content-length'], String(Buffer.byteLength('{"x":"é"}')));
    assert.equal(a?.port, b?.port, 'the second request reused the connection');
  });

  test('a refusal is an ordinary response whose body the SDK can read', async () => {
    const answer = await createNodeHttpFetch()(`${url}/refuse`, { method: 'POST', body: '{}' });
    assert.equal(answer.status, 429);
    assert.equal(answer.headers.get('retry-after'), '2');
    assert.deepEqual(await answer.json(), { error: { message: 'slow down' } });
  });

  test('an abort before the headers rejects with an AbortError and closes the connection', async () => {
    const controller = new AbortController();
    const arrived = new Promise<void>((resolve) => (hangArrived = resolve));
    const pending = createNodeHttpFetch()(`${url}/hang`, { method: 'POST', body: '{}', signal: controller.signal });
    await arrived;
    controller.abort();
    await assert.rejects(pending, { name: 'AbortError' });
    for (let waited = 0; waited < 100 && !closedEarly.includes('/hang'); waited += 1) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.ok(closedEarly.includes('/hang'));
  });

  test('an abort after the headers ends the body in an AbortError and the provider sees the connection close', async () => {
    const controller = new AbortController();
    const answer = await createNodeHttpFetch()(`${url}/stream`, { method: 'POST', body: '{}', signal: controller.signal });
    const body = nodeBodyOf(answer);
    assert.ok(body !== undefined);
    const chunks = chatCompletionChunks(body, answer.headers)[Symbol.asyncIterator]();
    assert.deepEqual((await chunks.next()).value, { a: 1 });
    const rest = chunks.next();
    controller.abort();
    assert.deepEqual(await rest, { done: true, value: undefined }, 'our own abort ends the chunks without an error');
    for (let waited = 0; waited < 100 && !closedEarly.includes('/stream'); waited += 1) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.ok(closedEarly.includes('/stream'));
  });

  test('a streamed answer can also be read as its Web Stream body, with the same bytes', async () => {
    const answer = await createNodeHttpFetch()(`${url}/stream`, { method: 'POST', body: '{}' });
    const reader = answer.body?.getReader();
    assert.ok(reader !== undefined);
    const first = await reader.read();
    assert.equal(Buffer.from(first.value ?? new Uint8Array()).toString('utf8'), 'data: {"a":1}\n\n');
    await reader.cancel();
  });

  test('no connection is a TypeError "fetch failed" with the cause, as fetch reports it', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise((resolve) => probe.close(resolve));
    await assert.rejects(createNodeHttpFetch()(`http://127.0.0.1:${port}/`, { method: 'POST', body: '{}' }), (error: unknown) => {
      assert.ok(error instanceof TypeError);
      assert.equal(error.message, 'fetch failed');
      assert.equal((error.cause as NodeJS.ErrnoException).code, 'ECONNREFUSED');
      return true;
    });
  });
});
