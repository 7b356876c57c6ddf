import assert from 'node:assert/strict';
import { test } from '@jest/globals';
import {
  readConversationDetail,
  readConversationPage,
  readConversationSummary,
  readStoredMessage,
} from '../miniprogram/lib/conversation-shapes.ts';

const summary = { id: 'c-1', title: '标题', createdAt: '2025-01-01T00:00:00Z', updatedAt: '2025-01-01T01:00:00Z' };
const message = { id: 'm-1', role: 'assistant', text: '答', status: 'complete', createdAt: 'a', updatedAt: 'b' };

test('a summary keeps its four fields and drops anything else', () => {
  assert.deepEqual(readConversationSummary({ ...summary, owner: 'user-1' }), summary);
});

test('a summary without an id, or with a non-string title, is refused', () => {
  assert.equal(readConversationSummary({ ...summary, id: '' }), undefined);
  assert.equal(readConversationSummary({ ...summary, title: null }), undefined);
  assert.equal(readConversationSummary('c-1'), undefined);
});

test('a page needs its items and a cursor that is a non-empty string or null', () => {
  assert.deepEqual(readConversationPage({ items: [summary], nextCursor: null }), { items: [summary], nextCursor: null });
  assert.deepEqual(readConversationPage({ items: [], nextCursor: 'abc' }), { items: [], nextCursor: 'abc' });
  assert.equal(readConversationPage({ items: [summary] }), undefined);
  assert.equal(readConversationPage({ items: [summary], nextCursor: '' }), undefined);
  assert.equal(readConversationPage({ items: [{ id: 'c-2' }], nextCursor: null }), undefined);
});

test('a stored message keeps its optional fields only when they have their types', () => {
  const read = readStoredMessage({
    ...message,
    reasoning: '想',
    finishReason: 'length',
    errorCode: 42,
    usage: { promptTokens: 3, completionTokens: -1 },
    model: 'm',
  });
  assert.deepEqual(read, { ...message, reasoning: '想', finishReason: 'length', model: 'm' });
});

test('a message status this client does not know reads as error, so it is shown as incomplete', () => {
  assert.equal(readStoredMessage({ ...message, status: 'moderating' })?.status, 'error');
});

test('a message with an unknown role is refused, and so is the detail holding it', () => {
  assert.equal(readStoredMessage({ ...message, role: 'system' }), undefined);
  assert.equal(readConversationDetail({ conversation: summary, messages: [{ ...message, role: 'system' }] }), undefined);
});

test('a detail is its conversation and its messages in order', () => {
  const second = { ...message, id: 'm-2', role: 'user', text: '问' };
  const detail = readConversationDetail({ conversation: summary, messages: [message, second] });
  assert.deepEqual(
    detail?.messages.map((m) => m.id),
    ['m-1', 'm-2'],
  );
  assert.equal(readConversationDetail({ conversation: summary }), undefined);
});
