import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:net';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseErrorBody, type ReplyEvent } from '@wxstream/protocol';
import { PATIENCE_MS } from './support/eventually.ts';
import { beginSend, chatRequest, login, openStream } from './support/http-client.ts';
import { parseReplyBody } from './support/reply-stream.ts';
import { spawnServerProcess } from './support/server-process.ts';
import { TEST_API_KEY, TEST_TOKEN_SECRET, startEmulator, startStack } from './support/test-server.ts';
import { OFFLINE_FOLLOW_UPS } from '../src/offline-model/offline-reply.ts';
import { MIGRATIONS } from '../src/storage/migrations.ts';

/** A few pieces, then the model holds the stream open for ever: a reply that cannot finish within any grace period. */
const longReply = { content: Array.from({ length: 200 }, (_, index) => `part${index} `), chunkDelayMs: 40, stallAfter: 5 };

function errorOf(event: ReplyEvent | undefined): { code: string; retryable: boolean } | undefined {
  return event?.type === 'error' ? { code: event.data.code, retryable: event.data.retryable } : undefined;
}

test('shutdown lets a reply in progress finish within the grace period', async () => {
  // A grace period far longer than any machine needs for the rest of this reply.
  const stack = await startStack({ env: { SHUTDOWN_GRACE_MS: '600000' }, scenario: { content: ['a', 'b', 'c', 'd', 'e'], chunkDelayMs: 60 } });
  const token = await login(stack.url);
  const stream = await openStream(stack.url, '/api/chat', chatRequest(token, { message: 'finish me' }));
  await stream.waitForText('"a"');
  await stack.app.server.shutdown();
  const reply = parseReplyBody((await stream.ended).toString('utf8'));
  assert.equal(reply.text, 'abcde');
  assert.deepEqual(reply.events.at(-1)?.data, { finishReason: 'stop' });
  await stack.emulator.close();
});

test('after the grace period, replies still running end with server_shutdown and their upstream calls are aborted', async () => {
  const stack = await startStack({ env: { SHUTDOWN_GRACE_MS: '150' }, scenario: longReply });
  const token = await login(stack.url);
  const index = stack.emulator.requests.length;
  const stream = await openStream(stack.url, '/api/chat', chatRequest(token, { message: 'never ending' }));
  await stream.waitForText('part1 ');
  await stack.app.server.shutdown();
  const reply = parseReplyBody((await stream.ended).toString('utf8'));
  assert.ok(reply.text.startsWith('part0 part1 '));
  assert.deepEqual(errorOf(reply.events.at(-1)), { code: 'server_shutdown', retryable: true });
  assert.equal(reply.events.filter((event) => event.type === 'error' || event.type === 'done').length, 1);
  assert.equal((await stack.emulator.waitForAbort(index, PATIENCE_MS)).aborted, true);
  await stack.emulator.close();
});

test('a chat still waiting for the provider when the grace period ends is answered 503 server_shutdown', async () => {
  const stack = await startStack({ env: { SHUTDOWN_GRACE_MS: '100' }, scenario: { content: ['late'], headersDelayMs: 3000 } });
  const token = await login(stack.url);
  const pending = beginSend(stack.url, '/api/chat', chatRequest(token, { message: 'slow provider' }));
  await stack.emulator.waitForRequests(1, PATIENCE_MS);
  await stack.app.server.shutdown();
  const answer = await pending.answer;
  assert.equal(answer.status, 503);
  assert.equal(parseErrorBody(answer.json())?.code, 'server_shutdown');
  assert.equal(answer.headers.connection, 'close');
  await stack.emulator.close();
});

test('during shutdown a health check on an open connection answers 503 shutting_down', async () => {
  const stack = await startStack({ env: { SHUTDOWN_GRACE_MS: '2000' }, scenario: { content: ['x', 'y', 'z'], chunkDelayMs: 100 } });
  const token = await login(stack.url);
  const stream = await openStream(stack.url, '/api/chat', chatRequest(token, { message: 'keep the server busy' }));
  await stream.waitForText('"x"');
  // A request whose headers are half sent when shutdown starts is in progress, so it is still served.
  const socket = connect(stack.app.server.port, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  let raw = '';
  socket.on('data', (bytes: Buffer) => (raw += bytes.toString('utf8')));
  const socketClosed = new Promise((resolve) => socket.once('close', resolve));
  socket.write('GET /healthz HTTP/1.1\r\nHost: test\r\n');
  await sleep(30);
  const shutdown = stack.app.server.shutdown();
  await sleep(30);
  socket.write('\r\n');
  await socketClosed;
  assert.match(raw, /^HTTP\/1\.1 503 /);
  assert.ok(raw.endsWith('{"status":"shutting_down"}'), raw);
  await shutdown;
  await stream.ended;
  await stack.emulator.close();
});

test('a real server process ends a running reply with server_shutdown on SIGTERM and exits 0', async () => {
  const emulator = await startEmulator({ scenario: longReply });
  const server = spawnServerProcess({
    OPENAI_BASE_URL: emulator.baseURL,
    OPENAI_API_KEY: TEST_API_KEY,
    TOKEN_SECRET: TEST_TOKEN_SECRET,
    SHUTDOWN_GRACE_MS: '200',
  });
  try {
    const url = await server.listening;
    const token = await login(url);
    const stream = await openStream(url, '/api/chat', chatRequest(token, { message: 'interrupt me' }));
    await stream.waitForText('part2 ');
    server.child.kill('SIGTERM');
    const reply = parseReplyBody((await stream.ended).toString('utf8'));
    assert.deepEqual(errorOf(reply.events.at(-1)), { code: 'server_shutdown', retryable: true });
    assert.equal(await server.exited, 0);
    assert.equal((await emulator.waitForAbort(0, PATIENCE_MS)).aborted, true);
    assert.ok(server.records.some((record) => record.msg === 'shutdown complete'));
  } finally {
    server.child.kill('SIGKILL');
    await emulator.close();
  }
});

test('a real server process with no model configured answers from the offline model and says how to configure one', async () => {
  const server = spawnServerProcess({ OFFLINE_MODEL_CHUNK_DELAY_MS: '0' });
  try {
    const url = await server.listening;
    const messages = server.records.map((record) => String(record.msg));
    assert.ok(messages.some((msg) => msg.includes('built-in offline model')));
    assert.ok(messages.some((msg) => msg.includes('TOKEN_SECRET is not set')));
    assert.ok(messages.some((msg) => msg.includes('development mode')));
    // The embedded default database: one SQLite file under the working directory, migrated at start.
    const database = server.records.find((record) => record.msg === 'database ready');
    assert.equal(database?.databasePath, join(server.cwd, '.data', 'wxstream.sqlite'));
    assert.deepEqual(database?.appliedMigrations, MIGRATIONS.map((migration) => migration.version));
    assert.ok(existsSync(join(server.cwd, '.data', 'wxstream.sqlite')));
    const token = await login(url);
    const stream = await openStream(url, '/api/chat', chatRequest(token, { message: '怎么接入 DeepSeek？' }));
    const reply = parseReplyBody((await stream.ended).toString('utf8'));
    assert.match(reply.text, /OPENAI_API_KEY/);
    assert.match(reply.text, /怎么接入 DeepSeek？/);
    assert.equal(reply.events.at(-1)?.type, 'done');
    // Follow-up questions are on by default, and the offline model answers them too, right before done.
    const suggestions = reply.events.at(-3);
    assert.deepEqual(suggestions?.type === 'suggestions' ? suggestions.data.items : suggestions, OFFLINE_FOLLOW_UPS);
    server.child.kill('SIGTERM');
    assert.equal(await server.exited, 0);
  } finally {
    server.child.kill('SIGKILL');
  }
});

test('a production server process refuses to start without TOKEN_SECRET', async () => {
  const server = spawnServerProcess({ NODE_ENV: 'production' });
  server.listening.catch(() => {});
  assert.equal(await server.exited, 1);
  assert.match(server.stderr(), /TOKEN_SECRET is required when NODE_ENV=production/);
});
