/**
 * The listener against slow, sloppy and leaving clients: slow headers and trickled bodies are cut
 * at their configured timeouts while long reply streams are not; a refused body still gets its
 * answer to a client that writes it all first; every answer carries the security headers; a client
 * that hangs up is logged quietly, without a stack.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseErrorBody } from '@wxstream/protocol';
import { authed } from './support/api-client.ts';
import { eventually, PATIENCE_MS } from './support/eventually.ts';
import { chatRequest, login, openStream, send } from './support/http-client.ts';
import { parseReplyBody } from './support/reply-stream.ts';
import { startStack } from './support/test-server.ts';

interface RawExchange {
  readonly socket: Socket;
  /** Everything the server wrote, once it closed the connection (or the hang guard gave up). */
  readonly closed: Promise<string>;
}

function rawConnection(port: number): Promise<RawExchange> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      let raw = '';
      socket.on('data', (bytes: Buffer) => (raw += bytes.toString('latin1')));
      const closed = new Promise<string>((resolveClosed, rejectClosed) => {
        const guard = setTimeout(() => rejectClosed(new Error(`the server kept the connection open for ${PATIENCE_MS} ms; got ${JSON.stringify(raw)}`)), PATIENCE_MS);
        socket.once('close', () => {
          clearTimeout(guard);
          resolveClosed(raw);
        });
      });
      closed.catch(() => undefined);
      resolve({ socket, closed });
    });
    socket.once('error', reject);
  });
}

test('a client that never finishes its headers, or trickles its body, is answered 408 and closed at the configured timeouts', async () => {
  const stack = await startStack({ env: { HEADERS_TIMEOUT_MS: '500', REQUEST_TIMEOUT_MS: '1000' } });
  try {
    const { httpServer } = stack.app.server;
    assert.deepEqual([httpServer.headersTimeout, httpServer.requestTimeout], [500, 1000]);
    const slowHeaders = await rawConnection(stack.app.server.port);
    slowHeaders.socket.write('GET /healthz HTTP/1.1\r\nHost: test\r\n');
    const trickle = await rawConnection(stack.app.server.port);
    trickle.socket.write('POST /api/auth/login HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{');
    assert.match(await slowHeaders.closed, /^HTTP\/1\.1 408 /);
    assert.match(await trickle.closed, /^HTTP\/1\.1 408 /);
    assert.equal((await send(stack.url, '/healthz')).status, 200, 'the server is fine');
  } finally {
    await stack.close();
  }
});

test('a reply stream that lasts longer than REQUEST_TIMEOUT_MS is not cut: the timeout is for receiving the request only', async () => {
  let release = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  const stack = await startStack({ env: { HEADERS_TIMEOUT_MS: '200', REQUEST_TIMEOUT_MS: '300', HEARTBEAT_INTERVAL_MS: '3600000' }, scenario: { content: ['开始', '结束'], holdAfter: { events: 2, until: held } } });
  try {
    const token = await login(stack.url);
    const stream = await openStream(stack.url, '/api/chat', chatRequest(token, { message: 'take long' }));
    await stream.waitForText('开始');
    // Several request timeouts (and the server's checks of them) pass while the stream is silent.
    await sleep(1500);
    release();
    const reply = parseReplyBody((await stream.ended).toString('utf8'));
    assert.equal(reply.text, '开始结束');
    assert.equal(reply.events.at(-1)?.type, 'done');
  } finally {
    release();
    await stack.close();
  }
});

test('a 1 MiB body written whole before reading, without Expect: 100-continue, gets its 413 — not a reset', async () => {
  const stack = await startStack();
  try {
    const token = await login(stack.url);
    const body = Buffer.alloc(1024 * 1024, 'a');
    const exchange = await rawConnection(stack.app.server.port);
    const head = `POST /api/chat HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
    // The client goes on writing after the server has already answered (it decides on the
    // declared length): the rest of the body arrives at a server that has made up its mind.
    let writeError: Error | undefined;
    exchange.socket.once('error', (error) => (writeError = error));
    exchange.socket.write(head);
    await eventually(() => stack.app.logs.some((record) => record.msg === 'request finished' && record.status === 413), 'the server to answer 413');
    for (let at = 0; at < body.length && writeError === undefined && !exchange.socket.destroyed; at += 16 * 1024) {
      writeError ??= await new Promise<Error | undefined>((resolve) => exchange.socket.write(body.subarray(at, at + 16 * 1024), (error) => resolve(error ?? undefined)));
      await sleep(1);
    }
    assert.equal(writeError, undefined, 'no write failed');
    assert.equal(exchange.socket.bytesWritten, Buffer.byteLength(head) + body.length, 'the whole body went out on an open connection');
    exchange.socket.end();
    const raw = await exchange.closed;
    assert.match(raw, /^HTTP\/1\.1 413 /);
    assert.equal(parseErrorBody(JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)))?.code, 'payload_too_large');
  } finally {
    await stack.close();
  }
});

test('every API answer says nosniff and no-store (unless it chose its own caching), and forbids framing and loading anything', async () => {
  const stack = await startStack({ scenario: { content: ['好'] } });
  try {
    const token = await login(stack.url);
    const answers = {
      health: await send(stack.url, '/healthz'),
      notFound: await send(stack.url, '/nope'),
      unauthorized: await send(stack.url, '/api/conversations'),
      list: await send(stack.url, '/api/conversations', authed(token)),
      login: await send(stack.url, '/api/auth/login', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: { code: 'x' } }),
      badJson: await send(stack.url, '/api/chat', { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` }, body: '{' }),
    };
    for (const [name, answer] of Object.entries(answers)) {
      assert.equal(answer.headers['x-content-type-options'], 'nosniff', name);
      assert.equal(answer.headers['cache-control'], 'no-store', name);
      assert.equal(answer.headers['content-security-policy'], "default-src 'none'; frame-ancestors 'none'", name);
      assert.equal(answer.headers['referrer-policy'], 'no-referrer', name);
    }
    const stream = await send(stack.url, '/api/chat', chatRequest(token, { message: 'hi' }));
    assert.equal(stream.headers['x-content-type-options'], 'nosniff');
    assert.equal(stream.headers['cache-control'], 'no-cache, no-transform', "the stream keeps the protocol's header");
  } finally {
    await stack.close();
  }
});

test('clients that hang up mid-request are logged at debug without a stack; nothing at warn or error', async () => {
  const stack = await startStack();
  try {
    const before = stack.app.logs.length;
    for (let attempt = 0; attempt < 20; attempt += 1) {
      const exchange = await rawConnection(stack.app.server.port);
      exchange.socket.write('POST /api/auth/login HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"code":');
      await sleep(5);
      exchange.socket.destroy();
      await exchange.closed.catch(() => undefined);
    }
    assert.equal((await send(stack.url, '/healthz')).status, 200);
    const records = stack.app.logs.slice(before);
    const loud = records.filter((record) => record.level >= 40);
    assert.deepEqual(loud.map((record) => record.msg), [], 'no warning or error for a client hanging up');
    assert.ok(!stack.app.rawLogs().slice(0).includes('"stack"'), 'no stack anywhere');
  } finally {
    await stack.close();
  }
});
