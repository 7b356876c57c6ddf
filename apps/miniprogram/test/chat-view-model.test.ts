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

const para = (key: string, ...runs: { text: string; cls?: string; href?: string }[]) => ({
  key,
  kind: 'para',
  cls: 'md-p',
  parts: [{ kind: 'text', runs: runs.map((run) => ({ cls: '', href: '', ...run })) }],
});

test('a text patch becomes the paths of what changed in the open block', () => {
  const first = replyPatchData(1, { text: '第一段。\n\n第二' }, emptyReplyRender());
  assert.deepEqual(first.data, {
    'messages[1].blocks[0]': para('0', { text: '第一段。' }),
    'messages[1].blocks[1]': para('1', { text: '第二' }),
  });
  const second = replyPatchData(1, { text: '第一段。\n\n第二段' }, first.render);
  assert.deepEqual(second.data, { 'messages[1].blocks[1].parts[0].runs[0].text': '第二段' });
});

test('half-typed Markdown shows as it will look, and a finished block is not sent again', () => {
  const first = replyPatchData(1, { text: '# 标题\n\n这是**重' }, emptyReplyRender());
  assert.deepEqual(first.data['messages[1].blocks[1]'], para('1', { text: '这是' }, { text: '重', cls: 'md-strong' }));
  const second = replyPatchData(1, { text: '# 标题\n\n这是**重点**。\n\n下一段' }, first.render);
  assert.deepEqual(second.data, {
    'messages[1].blocks[1].parts[0].runs[1].text': '重点',
    'messages[1].blocks[1].parts[0].runs[2]': { text: '。', cls: '', href: '' },
    'messages[1].blocks[2]': para('2', { text: '下一段' }),
  });
  const third = replyPatchData(1, { text: '# 标题\n\n这是**重点**。\n\n下一段\n\n再一段' }, second.render);
  assert.deepEqual(Object.keys(third.data), ['messages[1].blocks[3]'], 'blocks 0–2 are not touched');
});

test('the final status finishes the Markdown: the open block shows its real text', () => {
  const streaming = replyPatchData(1, { text: '写到一半**加' }, emptyReplyRender());
  const done = replyPatchData(1, { status: 'done' }, streaming.render);
  assert.deepEqual(done.data, {
    'messages[1].blocks[0].parts[0].runs': [{ text: '写到一半**加', cls: '', href: '' }],
    'messages[1].status': 'done',
  });
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
    'messages[1].reasoningBlocks[0]': para('0', { text: '推理' }),
  });
  const more = replyPatchData(1, { reasoning: '推理中' }, opened.render);
  assert.deepEqual(more.data, { 'messages[1].reasoningBlocks[0].parts[0].runs[0].text': '推理中' });
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

test('a stored conversation becomes bubbles with fresh ids, replies rendered as Markdown blocks', () => {
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
  assert.deepEqual(messages[1]?.blocks, [
    para('0', { text: '好的：' }),
    { key: '1', kind: 'code', lang: 'js', lines: [[{ text: 'f', cls: 'hljs-title function_', href: '' }, { text: '()', cls: '', href: '' }]] },
  ]);
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
    'messages[0].reasoningBlocks[0]': para('0', { text: '推理过程' }),
  });
});
