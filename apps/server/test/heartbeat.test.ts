import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chatRequest, login, send } from './support/http-client.ts';
import { parseReplyBody } from './support/reply-stream.ts';
import { startStack } from './support/test-server.ts';

test('heartbeats go out between complete events while the model is slow, never before start or after the end', async () => {
  const stack = await startStack({
    env: { HEARTBEAT_INTERVAL_MS: '25' },
    scenario: { content: ['slow', ' and', ' steady'], chunkDelayMs: 120 },
  });
  try {
    const token = await login(stack.url);
    const answer = await send(stack.url, '/api/chat', chatRequest(token, { message: 'take your time' }));
    // parseReplyBody rejects any heartbeat that is not a block of its own.
    const reply = parseReplyBody(answer.text);
    assert.equal(reply.text, 'slow and steady');
    const heartbeats = reply.blocks.filter((block) => block.kind === 'heartbeat').length;
    assert.ok(heartbeats >= 3, `expected heartbeats during 120 ms gaps at a 25 ms interval, got ${heartbeats}`);
    assert.equal(reply.blocks[0]?.kind, 'event');
    assert.equal(reply.blocks.at(-1)?.kind, 'event');
    assert.ok(answer.text.includes('\n\n: ping\n\n'));
  } finally {
    await stack.close();
  }
});

test('no heartbeat is sent while events flow faster than the heartbeat interval', async () => {
  const stack = await startStack({
    env: { HEARTBEAT_INTERVAL_MS: '2000' },
    scenario: { content: ['quick', ' brown', ' fox', ' jumps'], chunkDelayMs: 20 },
  });
  try {
    const token = await login(stack.url);
    const answer = await send(stack.url, '/api/chat', chatRequest(token, { message: 'fast' }));
    const reply = parseReplyBody(answer.text);
    assert.equal(reply.text, 'quick brown fox jumps');
    assert.equal(reply.blocks.filter((block) => block.kind === 'heartbeat').length, 0);
  } finally {
    await stack.close();
  }
});
