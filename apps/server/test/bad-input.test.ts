import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parseErrorBody, type ErrorCode } from '@wxstream/protocol';
import { chatRequest, login, send, type SendOptions } from './support/http-client.ts';
import { parseReplyBody } from './support/reply-stream.ts';
import { startStack, type TestStack } from './support/test-server.ts';

describe('requests refused before the stream', () => {
  let stack: TestStack;
  let token: string;

  before(async () => {
    stack = await startStack();
    token = await login(stack.url);
  });
  after(() => stack.close());

  const json = (body: string | Buffer | object, headers: Record<string, string> = {}): SendOptions => ({
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}`, ...headers },
    body,
  });

  const cases: Array<{ name: string; status: number; code: ErrorCode; request: () => SendOptions }> = [
    { name: 'a missing message', status: 400, code: 'message_required', request: () => json({}) },
    { name: 'an empty message', status: 400, code: 'message_required', request: () => json({ message: '' }) },
    { name: 'a whitespace-only message', status: 400, code: 'message_required', request: () => json({ message: ' \n\t\u3000 ' }) },
    { name: 'a message that is not a string', status: 400, code: 'invalid_request', request: () => json({ message: 42 }) },
    { name: 'a body that is not an object', status: 400, code: 'invalid_request', request: () => json(['hello']) },
    { name: 'a message of 4001 characters', status: 400, code: 'message_too_long', request: () => json({ message: '字'.repeat(4001) }) },
    { name: 'a conversationId with other characters', status: 400, code: 'invalid_request', request: () => json({ message: 'hi', conversationId: '../etc/passwd' }) },
    { name: 'a conversationId of 65 characters', status: 400, code: 'invalid_request', request: () => json({ message: 'hi', conversationId: 'a'.repeat(65) }) },
    { name: 'a conversationId that is not a string', status: 400, code: 'invalid_request', request: () => json({ message: 'hi', conversationId: 7 }) },
    { name: 'truncated JSON', status: 400, code: 'invalid_json', request: () => json('{"message": "hi"') },
    { name: 'an empty body', status: 400, code: 'invalid_json', request: () => json('') },
    {
      name: 'bytes that are not UTF-8',
      status: 400,
      code: 'invalid_request',
      request: () => json(Buffer.concat([Buffer.from('{"message":"'), Buffer.from([0xe4, 0xbd]), Buffer.from('"}')])),
    },
    { name: 'a message with a lone surrogate (valid JSON, not text)', status: 400, code: 'invalid_request', request: () => json('{"message":"broken \\ud800 text"}') },
    { name: 'a 1 MB body', status: 413, code: 'payload_too_large', request: () => json({ message: 'm'.repeat(1024 * 1024) }) },
    { name: 'a declared body over 64 KiB', status: 413, code: 'payload_too_large', request: () => json({ message: 'x'.repeat(70 * 1024) }) },
    {
      name: 'a chunked body that grows over 64 KiB',
      status: 413,
      code: 'payload_too_large',
      request: () => ({ ...json({ message: 'y'.repeat(80 * 1024) }), chunked: true }),
    },
    { name: 'a text/plain body', status: 415, code: 'unsupported_media_type', request: () => json('{"message":"hi"}', { 'Content-Type': 'text/plain' }) },
    {
      name: 'JSON in another charset',
      status: 415,
      code: 'unsupported_media_type',
      request: () => json('{"message":"hi"}', { 'Content-Type': 'application/json; charset=latin1' }),
    },
    {
      name: 'a body without a content type',
      status: 415,
      code: 'unsupported_media_type',
      request: () => ({ method: 'POST', headers: { Authorization: `Bearer ${token}` }, body: '{"message":"hi"}' }),
    },
    { name: 'no token', status: 401, code: 'unauthorized', request: () => ({ method: 'POST', headers: { 'Content-Type': 'application/json' }, body: { message: 'hi' } }) },
    { name: 'another auth scheme', status: 401, code: 'unauthorized', request: () => json({ message: 'hi' }, { Authorization: `Basic ${token}` }) },
    { name: 'a token that is not ours', status: 401, code: 'invalid_token', request: () => json({ message: 'hi' }, { Authorization: 'Bearer not.a-token' }) },
    {
      name: 'no token, even with a broken body (identity is checked first)',
      status: 401,
      code: 'unauthorized',
      request: () => ({ method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"broken' }),
    },
  ];

  for (const { name, status, code, request } of cases) {
    test(`${name} is answered ${status} ${code} and never reaches the model`, async () => {
      const before = stack.emulator.requests.length;
      const answer = await send(stack.url, '/api/chat', request());
      assert.equal(answer.status, status, answer.text);
      assert.match(String(answer.headers['content-type']), /^application\/json/);
      const error = parseErrorBody(answer.json());
      assert.equal(error?.code, code);
      assert.equal(error?.retryable, false);
      assert.equal(stack.emulator.requests.length, before);
    });
  }

  test('the length limit counts characters, so 4000 emoji (8000 UTF-16 units) are accepted', async () => {
    const answer = await send(stack.url, '/api/chat', chatRequest(token, { message: '😀'.repeat(4000) }));
    assert.equal(answer.status, 200);
    assert.equal(parseReplyBody(answer.text).events.at(-1)?.type, 'done');
  });

  test('an unknown route is a 404 not_found JSON answer', async () => {
    const answer = await send(stack.url, '/api/nothing-here');
    assert.equal(answer.status, 404);
    assert.equal(parseErrorBody(answer.json())?.code, 'not_found');
  });

  test('a known route with the wrong method is a 405 method_not_allowed JSON answer with Allow', async () => {
    const answer = await send(stack.url, '/api/chat', { method: 'GET' });
    assert.equal(answer.status, 405);
    assert.equal(answer.headers.allow, 'POST');
    assert.equal(parseErrorBody(answer.json())?.code, 'method_not_allowed');
  });
});
