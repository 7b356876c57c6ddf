/**
 * The caps: reply streams per user, readers per reply, connections, and the reply log's memory —
 * each answered with its own code (429 too_many_streams / too_many_readers, 503 server_busy) and
 * counted in /metrics; each slot given back when its stream ends.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import { parseErrorBody } from '@wxstream/protocol';
import { startOf } from './support/api-client.ts';
import { eventually } from './support/eventually.ts';
import { parseExposition, valueOf } from './support/exposition.ts';
import { chatRequest, login, openStream, send, type OpenStream } from './support/http-client.ts';
import { openResume } from './support/reply-routes-client.ts';
import { startStack } from './support/test-server.ts';

const refusals = async (url: string, limit: string) => valueOf(parseExposition((await send(url, '/metrics')).text), 'wxstream_limit_refusals_total', { limit });

/**
 * A server whose model holds every reply open after its first piece, with one of `user`'s replies
 * started and followed by two resumes: three open streams, two readers of the reply.
 */
async function heldReplyWithTwoReaders(env: Record<string, string>, user: string) {
  let release = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  const stack = await startStack({ env, scenario: { content: ['第一段', '第二段'], holdAfter: { events: 2, until: held } } });
  const open: OpenStream[] = [];
  const token = await login(stack.url, user);
  const chat = await openStream(stack.url, '/api/chat', chatRequest(token, { message: 'hold on' }));
  open.push(chat);
  await chat.waitForText('第一段');
  const { messageId } = startOf(chat.text());
  open.push(await openResume(stack.url, token, messageId, '0'), await openResume(stack.url, token, messageId, '0'));
  return {
    stack,
    token,
    messageId,
    open,
    release,
    async close() {
      release();
      for (const stream of open) stream.destroy();
      await stack.close();
    },
  };
}

test('one user holds at most MAX_STREAMS_PER_USER reply streams; closing one frees its slot; nobody else learns of the reply', async () => {
  const held = await heldReplyWithTwoReaders({ MAX_STREAMS_PER_USER: '3', MAX_READERS_PER_REPLY: '2' }, 'many-tabs');
  const { stack, token, messageId, open } = held;
  try {
    assert.deepEqual(open.map((stream) => stream.status), [200, 200, 200]);

    const fourth = await send(stack.url, `/api/chat/${messageId}/events`, { headers: { Authorization: `Bearer ${token}` } });
    assert.equal(fourth.status, 429);
    assert.equal(parseErrorBody(fourth.json())?.code, 'too_many_streams');

    // A slot is given back when its stream closes (the server sees the close a moment later).
    open.pop()?.destroy();
    const third = await eventually(async () => {
      const attempt = await openResume(stack.url, token, messageId, '0');
      return attempt.status === 200 && attempt;
    }, 'the slot to be given back');
    open.push(third);
    const readers = await send(stack.url, `/api/chat/${messageId}/events`, { headers: { Authorization: `Bearer ${await login(stack.url, 'other-user')}` } });
    assert.equal(readers.status, 404, "another user never learns of the reply, cap or not");

    assert.equal(await refusals(stack.url, 'streams_per_user'), 1);
  } finally {
    await held.close();
  }
});

test('readers of one reply past MAX_READERS_PER_REPLY are 429 too_many_readers, counted', async () => {
  const held = await heldReplyWithTwoReaders({ MAX_STREAMS_PER_USER: '10', MAX_READERS_PER_REPLY: '2' }, 'many-readers');
  const { stack, token, messageId, open } = held;
  try {
    const third = await send(stack.url, `/api/chat/${messageId}/events`, { headers: { Authorization: `Bearer ${token}` } });
    assert.equal(third.status, 429);
    assert.equal(parseErrorBody(third.json())?.code, 'too_many_readers');
    assert.equal(await refusals(stack.url, 'readers_per_reply'), 1);
    held.release();
    for (const stream of open) await stream.ended;
    // Every stream ended: every slot is back.
    assert.equal((await send(stack.url, `/api/chat/${messageId}/events`, { headers: { Authorization: `Bearer ${token}` } })).status, 200);
  } finally {
    await held.close();
  }
});

function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

test('connections past MAX_CONNECTIONS are answered 503 server_busy with Retry-After and closed; once others close, requests are served again', async () => {
  const stack = await startStack({ env: { MAX_CONNECTIONS: '3' } });
  const idle: Socket[] = [];
  try {
    for (let index = 0; index < 3; index += 1) idle.push(await openSocket(stack.app.server.port));
    // The server has counted them once it answers on one of them.
    const probe = idle[0];
    assert.ok(probe !== undefined);
    const answered = new Promise<string>((resolve) => {
      let raw = '';
      probe.on('data', (bytes: Buffer) => {
        raw += bytes.toString('utf8');
        if (raw.includes('\r\n\r\n')) resolve(raw);
      });
    });
    probe.write('GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n');
    assert.match(await answered, /^HTTP\/1\.1 200 /);

    const busy = await send(stack.url, '/healthz');
    assert.equal(busy.status, 503);
    assert.equal(parseErrorBody(busy.json())?.code, 'server_busy');
    assert.ok(Number(busy.headers['retry-after']) >= 1);
    assert.equal(busy.headers.connection, 'close');

    for (const socket of idle.splice(0)) socket.destroy();
    await eventually(async () => (await send(stack.url, '/healthz')).status === 200, 'the server to serve again');
    assert.ok((await refusals(stack.url, 'connections')) >= 1);
  } finally {
    for (const socket of idle) socket.destroy();
    await stack.close();
  }
});

test('while live replies fill REPLY_LOG_MAX_BYTES a new reply is refused 503 server_busy before the model is asked; ended logs are evicted to make room', async () => {
  // Each piece is about 40 KB in the log's estimate; the budget is 64 KiB.
  const big = 'x'.repeat(20_000);
  let release = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  const stack = await startStack({ env: { REPLY_LOG_MAX_BYTES: String(64 * 1024) }, scenario: { content: [big, big], holdAfter: { events: 3, until: held } } });
  try {
    const filler = await login(stack.url, 'filler');
    const live = await openStream(stack.url, '/api/chat', chatRequest(filler, { message: 'fill it' }));
    await live.waitForText('event: delta');
    await eventually(() => live.text().split('event: delta').length - 1 >= 2, 'both big pieces');
    const asked = stack.emulator.requests.length;
    const refused = await send(stack.url, '/api/chat', chatRequest(await login(stack.url, 'latecomer'), { message: 'room?' }));
    assert.equal(refused.status, 503, refused.text);
    assert.equal(parseErrorBody(refused.json())?.code, 'server_busy');
    assert.ok(Number(refused.headers['retry-after']) >= 1);
    assert.equal(stack.emulator.requests.length, asked, 'the model was not asked');
    assert.equal(await refusals(stack.url, 'reply_log_memory'), 1);

    release();
    await live.ended;
    await eventually(() => stack.app.server.activeReplies === 0, 'the live reply to end');
    stack.emulator.setScenario({ content: ['好。'] });
    const next = await send(stack.url, '/api/chat', chatRequest(await login(stack.url, 'latecomer'), { message: 'room now?' }));
    assert.equal(next.status, 200, 'an ended log makes room (it goes first when memory runs short)');
  } finally {
    release();
    await stack.close();
  }
});
