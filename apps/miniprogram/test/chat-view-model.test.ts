import assert from 'node:assert/strict';
import { test } from '@jest/globals';
import type { StoredMessage } from '@wxstream/protocol';
import {
  appendMessages,
  emptyReplyRender,
  INCOMPLETE_REPLY,
  pendingReply,
  reasoningToggleData,
  replaceMessage,
  replyPatchData,
  storedMessages,
  userMessage,
} from '../miniprogram/pages/chat/chat-view-model.ts';

function hasUndefined(value: unknown): boolean {
  if (value === undefined) return true;
  if (typeof value !== 'object' || value === null) return false;
  return Object.values(value).some(hasUndefined);
}

test('new messages are appended by index, never by resending the list', () => {
  const data = appendMessages(4, [userMessage('m5', '你好'), pendingReply('m6')]);
  assert.deepEqual(Object.keys(data), ['messages[4]', 'messages[5]']);
  assert.equal(hasUndefined(data), false);
});

test('a pending reply is an empty streaming assistant bubble', () => {
  const reply = pendingReply('m2');
  assert.equal(reply.role, 'assistant');
  assert.equal(reply.status, 'streaming');
  assert.deepEqual(reply.blocks, []);
});

test('a retried reply replaces its own bubble only', () => {
  assert.deepEqual(Object.keys(replaceMessage(3, pendingReply('m9'))), ['messages[3]']);
});

test('a text patch becomes the path of the one block that changed', () => {
  const first = replyPatchData(1, { text: '第一段。\n\n第二' }, emptyReplyRender());
  assert.deepEqual(first.data, {
    'messages[1].blocks[0]': { id: 0, kind: 'text', text: '第一段。\n\n', lang: '' },
    'messages[1].blocks[1]': { id: 1, kind: 'text', text: '第二', lang: '' },
  });
  const second = replyPatchData(1, { text: '第一段。\n\n第二段' }, first.render);
  assert.deepEqual(second.data, { 'messages[1].blocks[1].text': '第二段' });
});

test('status, error and finish reason patches map to their own paths', () => {
  const { data } = replyPatchData(
    5,
    { status: 'error', errorMessage: 'AI 服务出错了，请重试。', retryable: true, finishReason: 'length' },
    emptyReplyRender(),
  );
  assert.deepEqual(data, {
    'messages[5].status': 'error',
    'messages[5].errorMessage': 'AI 服务出错了，请重试。',
    'messages[5].retryable': true,
    'messages[5].finishReason': 'length',
  });
});

test('collapsed reasoning sends only that there is some, once', () => {
  const first = replyPatchData(1, { reasoning: '先想一想' }, emptyReplyRender());
  assert.deepEqual(first.data, { 'messages[1].hasReasoning': true });
  const second = replyPatchData(1, { reasoning: '先想一想，再想一想' }, first.render);
  assert.deepEqual(second.data, {});
  assert.equal(second.render.reasoning, '先想一想，再想一想');
});

test('opening the reasoning sends what arrived while it was closed, then follows it', () => {
  const collapsed = replyPatchData(1, { reasoning: '推理' }, emptyReplyRender());
  const opened = reasoningToggleData(1, true, collapsed.render);
  assert.deepEqual(opened.data, {
    'messages[1].reasoningOpen': true,
    'messages[1].reasoningBlocks[0]': { id: 0, kind: 'text', text: '推理', lang: '' },
  });
  const more = replyPatchData(1, { reasoning: '推理中' }, opened.render);
  assert.deepEqual(more.data, { 'messages[1].reasoningBlocks[0].text': '推理中' });
  const closed = reasoningToggleData(1, false, more.render);
  assert.deepEqual(closed.data, { 'messages[1].reasoningOpen': false });
});

test('fields a patch leaves out, or repeats, are not sent', () => {
  assert.deepEqual(replyPatchData(0, {}, emptyReplyRender()).data, {});
  assert.deepEqual(replyPatchData(0, { text: '', reasoning: '', status: 'streaming' }, emptyReplyRender()).data, {});
});

function stored(fields: Pick<StoredMessage, 'role' | 'text'> & Partial<StoredMessage>): StoredMessage {
  return { id: 'x', status: 'complete', createdAt: 'c', updatedAt: 'u', ...fields };
}

function counter(): () => string {
  let next = 1;
  return () => `m${next++}`;
}

test('a stored conversation becomes bubbles with fresh ids, replies split into blocks', () => {
  const { messages, renders } = storedMessages(
    [stored({ role: 'user', text: '举个例子' }), stored({ role: 'assistant', text: '好的：\n```js\nf()\n```', finishReason: 'stop' })],
    counter(),
  );
  assert.deepEqual(
    messages.map((m) => [m.id, m.role, m.status]),
    [
      ['m1', 'user', 'sent'],
      ['m2', 'assistant', 'done'],
    ],
  );
  assert.deepEqual(messages[0]?.blocks, userMessage('m1', '举个例子').blocks);
  assert.deepEqual(
    messages[1]?.blocks.map((b) => [b.kind, b.text]),
    [
      ['text', '好的：\n'],
      ['code', 'f()'],
    ],
  );
  assert.deepEqual([...renders.keys()], [1], 'a render per reply, by index');
  assert.equal(hasUndefined(messages), false);
});

test('stored statuses read as a live reply would show them', () => {
  const { messages } = storedMessages(
    [
      stored({ role: 'assistant', text: '一半', status: 'stopped', finishReason: 'stopped' }),
      stored({ role: 'assistant', text: '', status: 'blocked', errorCode: 'content_blocked' }),
      stored({ role: 'assistant', text: '断了', status: 'error', errorCode: 'upstream_error' }),
      stored({ role: 'assistant', text: '还在写', status: 'streaming' }),
      stored({ role: 'assistant', text: '太长', status: 'complete', finishReason: 'length' }),
    ],
    counter(),
  );
  assert.deepEqual(
    messages.map((m) => [m.status, m.errorMessage, m.retryable, m.finishReason]),
    [
      ['stopped', '', false, 'stopped'],
      ['blocked', '', false, ''],
      ['error', INCOMPLETE_REPLY, false, ''],
      ['error', INCOMPLETE_REPLY, false, ''],
      ['done', '', false, 'length'],
    ],
  );
});

test('stored reasoning stays off the bridge until its panel is opened', () => {
  const { messages, renders } = storedMessages([stored({ role: 'assistant', text: '答', reasoning: '推理过程' })], counter());
  assert.equal(messages[0]?.hasReasoning, true);
  assert.deepEqual(messages[0]?.reasoningBlocks, []);
  assert.equal(JSON.stringify(messages).includes('推理过程'), false);
  const render = renders.get(0);
  assert.ok(render);
  assert.deepEqual(reasoningToggleData(0, true, render).data, {
    'messages[0].reasoningOpen': true,
    'messages[0].reasoningBlocks[0]': { id: 0, kind: 'text', text: '推理过程', lang: '' },
  });
});
