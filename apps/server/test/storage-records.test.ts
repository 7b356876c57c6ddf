import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_TITLE_CHARS, WxstreamError } from '@wxstream/protocol';
import { pageSize, toConversationSummary, toStoredMessage, type MessageRecord } from '../src/storage/conversation-store.ts';
import { AUTO_TITLE_CHARS, FALLBACK_TITLE, normalizeTitle, titleFromMessage, truncateToCodePoints } from '../src/storage/conversation-title.ts';
import { decodeListCursor, encodeListCursor } from '../src/storage/list-cursor.ts';

const T0 = Date.UTC(2025, 5, 1, 8, 30, 0, 125);

test('a conversation summary carries ISO 8601 UTC times', () => {
  assert.deepEqual(toConversationSummary({ id: 'c1', userId: 'u1', title: '标题', titleSource: 'auto', createdAt: T0, updatedAt: T0 + 1000 }), {
    id: 'c1',
    title: '标题',
    createdAt: '2025-06-01T08:30:00.125Z',
    updatedAt: '2025-06-01T08:30:01.125Z',
  });
});

const baseMessage: MessageRecord = {
  id: 'm1',
  conversationId: 'c1',
  seq: 2,
  role: 'assistant',
  text: '回答',
  reasoning: '',
  status: 'complete',
  finishReason: null,
  errorCode: null,
  promptTokens: null,
  completionTokens: null,
  model: null,
  createdAt: T0,
  updatedAt: T0,
  turn: 1,
  questionId: 'q1',
  current: true,
  feedback: null,
};

test('a stored message leaves out the optional fields it does not have', () => {
  assert.deepEqual(toStoredMessage(baseMessage), {
    id: 'm1',
    role: 'assistant',
    text: '回答',
    status: 'complete',
    createdAt: '2025-06-01T08:30:00.125Z',
    updatedAt: '2025-06-01T08:30:00.125Z',
  });
});

test('a stored message carries reasoning, finish reason, error code, usage and model when present', () => {
  const message: MessageRecord = {
    ...baseMessage,
    reasoning: '想一想',
    status: 'error',
    finishReason: 'length',
    errorCode: 'upstream_timeout',
    promptTokens: 10,
    completionTokens: 0,
    model: 'deepseek-reasoner',
    updatedAt: T0 + 5,
  };
  assert.deepEqual(toStoredMessage(message), {
    id: 'm1',
    role: 'assistant',
    text: '回答',
    reasoning: '想一想',
    status: 'error',
    finishReason: 'length',
    errorCode: 'upstream_timeout',
    usage: { promptTokens: 10, completionTokens: 0 },
    model: 'deepseek-reasoner',
    createdAt: '2025-06-01T08:30:00.125Z',
    updatedAt: '2025-06-01T08:30:00.130Z',
  });
});

test('the automatic title is the first message on one line, cut at 30 code points', () => {
  assert.equal(titleFromMessage('  明天上海\n\n会下雨吗？  '), '明天上海 会下雨吗？');
  const long = '一二三四五六七八九十'.repeat(4);
  assert.equal(titleFromMessage(long), long.slice(0, AUTO_TITLE_CHARS));
  assert.equal(titleFromMessage('😀'.repeat(40)), '😀'.repeat(30));
});

test('the automatic title never splits a grapheme cluster and drops a space left at the cut', () => {
  const family = '👨‍👩‍👧‍👦'; // 7 code points
  const text = `${'a'.repeat(26)}${family}tail`;
  assert.equal(titleFromMessage(text), 'a'.repeat(26));
  assert.equal(titleFromMessage(`${'b'.repeat(29)} xyz`), 'b'.repeat(29));
  assert.equal(truncateToCodePoints(`${'c'.repeat(20)}${family}`, 27), `${'c'.repeat(20)}${family}`);
  assert.equal(truncateToCodePoints('e\u0301e\u0301', 3), 'e\u0301');
});

test('a first message with nothing printable gets the fallback title', () => {
  assert.equal(titleFromMessage(' \n\t '), FALLBACK_TITLE);
});

test('a chosen title is collapsed to one line and must be 1 to MAX_TITLE_CHARS code points', () => {
  assert.equal(normalizeTitle('  旅行\t计划\n2025 '), '旅行 计划 2025');
  assert.equal(normalizeTitle('😀'.repeat(MAX_TITLE_CHARS)), '😀'.repeat(MAX_TITLE_CHARS));
  for (const bad of ['', '   ', 'x'.repeat(MAX_TITLE_CHARS + 1)]) {
    assert.throws(() => normalizeTitle(bad), (error: unknown) => error instanceof WxstreamError && error.code === 'invalid_request');
  }
});

test('a list cursor round-trips and is URL-safe', () => {
  const position = { updatedAt: T0, id: 'a1b2-c3d4_ä/+=' };
  const cursor = encodeListCursor(position);
  assert.match(cursor, /^[A-Za-z0-9_-]+$/);
  assert.deepEqual(decodeListCursor(cursor), position);
});

test('a cursor that this server did not make is refused with invalid_request', () => {
  const forged = [
    '',
    'has spaces',
    'abc=',
    Buffer.from('{"updatedAt":1}').toString('base64url'),
    Buffer.from('[1.5,"id"]').toString('base64url'),
    Buffer.from('[1,""]').toString('base64url'),
    Buffer.from('[1,"id",3]').toString('base64url'),
    Buffer.from('["1","id"]').toString('base64url'),
    Buffer.from('not json').toString('base64url'),
    'A'.repeat(600),
  ];
  for (const cursor of forged) {
    assert.throws(
      () => decodeListCursor(cursor),
      (error: unknown) => error instanceof WxstreamError && error.code === 'invalid_request',
      JSON.stringify(cursor),
    );
  }
});

test('the page size defaults to 20 and is clamped to 1…100', () => {
  assert.equal(pageSize(undefined), 20);
  assert.equal(pageSize(Number.NaN), 20);
  assert.equal(pageSize(0), 1);
  assert.equal(pageSize(7.9), 7);
  assert.equal(pageSize(500), 100);
});
