import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { StoredMessageStatus } from '@wxstream/protocol';
import { buildContextWindow, type HistoryMessage } from '../src/storage/context-window.ts';
import { estimateMessageTokens, estimatePromptTokens } from '../src/storage/token-estimate.ts';

const user = (text: string, status: StoredMessageStatus = 'complete'): HistoryMessage => ({ role: 'user', text, status });
const assistant = (text: string, status: StoredMessageStatus = 'complete'): HistoryMessage => ({ role: 'assistant', text, status });

/** Ten turns whose texts name their position, so order and trimming are visible in the output. */
function turns(count: number): HistoryMessage[] {
  const history: HistoryMessage[] = [];
  for (let i = 1; i <= count; i += 1) history.push(user(`问题${i}：这是第${i}个问题`), assistant(`回答${i}：这是第${i}个回答`));
  return history;
}

const UNLIMITED = 1_000_000;

test('without history the window is the system prompt and the new message', () => {
  const window = buildContextWindow({ systemPrompt: '你是助手。', history: [], userMessage: '你好', maxTokens: UNLIMITED });
  assert.deepEqual(window.messages, [
    { role: 'system', content: '你是助手。' },
    { role: 'user', content: '你好' },
  ]);
  assert.equal(window.droppedMessages, 0);
  assert.equal(window.estimatedTokens, estimatePromptTokens(window.messages));
});

test('a missing or blank system prompt sends no system message', () => {
  for (const systemPrompt of [undefined, '', '  \n ']) {
    const window = buildContextWindow({ systemPrompt, history: [], userMessage: 'hi', maxTokens: UNLIMITED });
    assert.deepEqual(window.messages, [{ role: 'user', content: 'hi' }]);
  }
});

test('with room for everything the history is sent whole, in order, between system prompt and new message', () => {
  const history = turns(3);
  const window = buildContextWindow({ systemPrompt: 'sys', history, userMessage: '新问题', maxTokens: UNLIMITED });
  assert.deepEqual(window.messages, [
    { role: 'system', content: 'sys' },
    ...history.map((m) => ({ role: m.role, content: m.text })),
    { role: 'user', content: '新问题' },
  ]);
});

test('blocked messages, empty replies and in-flight replies are left out; stopped and failed partial replies stay', () => {
  const history = [
    user('q1'),
    assistant('a1 partial', 'stopped'),
    user('bad question', 'blocked'),
    user('q2'),
    assistant('bad answer', 'blocked'),
    user('q3'),
    assistant('', 'error'),
    user('q4'),
    assistant('half an ans', 'error'),
    user('q5'),
    assistant('   ', 'complete'),
    user('q6'),
    assistant('still typing', 'streaming'),
  ];
  const window = buildContextWindow({ history, userMessage: 'q7', maxTokens: UNLIMITED });
  assert.deepEqual(
    window.messages.map((m) => `${m.role}:${m.content}`),
    ['user:q1', 'assistant:a1 partial', 'user:q2', 'user:q3', 'user:q4', 'assistant:half an ans', 'user:q5', 'user:q6', 'user:q7'],
  );
});

test('stored records go in as they are and their reasoning is never sent', () => {
  const record = { ...assistant('答案'), reasoning: '很长的思考过程', id: 'm2', seq: 2 };
  const window = buildContextWindow({ history: [user('问题'), record], userMessage: '继续', maxTokens: UNLIMITED });
  assert.deepEqual(window.messages[1], { role: 'assistant', content: '答案' });
  assert.ok(!JSON.stringify(window.messages).includes('思考'));
});

test('trimming keeps the newest messages that fit and respects the budget', () => {
  const history = turns(10);
  const fixed = estimatePromptTokens([{ content: 'sys' }, { content: '新问题' }]);
  const perMessage = estimateMessageTokens({ content: history[19]?.text ?? '' });
  // Room for exactly the last four messages (all have the same estimate).
  const maxTokens = fixed + 4 * perMessage;
  const window = buildContextWindow({ systemPrompt: 'sys', history, userMessage: '新问题', maxTokens });
  assert.deepEqual(window.messages.map((m) => m.content), [
    'sys',
    '问题9：这是第9个问题',
    '回答9：这是第9个回答',
    '问题10：这是第10个问题',
    '回答10：这是第10个回答',
    '新问题',
  ]);
  assert.equal(window.estimatedTokens, estimatePromptTokens(window.messages));
  assert.ok(window.estimatedTokens <= maxTokens);
  assert.equal(window.droppedMessages, 16);
});

test('a trimmed window never opens on an assistant reply', () => {
  const history = turns(10);
  const fixed = estimatePromptTokens([{ content: '新问题' }]);
  const perMessage = estimateMessageTokens({ content: history[19]?.text ?? '' });
  // Room for three messages: the third-newest is an answer whose question did not fit.
  const window = buildContextWindow({ history, userMessage: '新问题', maxTokens: fixed + 3 * perMessage });
  assert.deepEqual(window.messages.map((m) => m.content), ['问题10：这是第10个问题', '回答10：这是第10个回答', '新问题']);
  assert.equal(window.droppedMessages, 18);
  assert.equal(window.estimatedTokens, estimatePromptTokens(window.messages));
});

test('an older short message is not pulled in past a newer one that did not fit', () => {
  const history = [user('hi'), assistant('hello'), user('x'.repeat(4000)), assistant('ok')];
  const window = buildContextWindow({ history, userMessage: 'next', maxTokens: 200 });
  // "ok" is an answer left without its question, so it goes as well.
  assert.deepEqual(window.messages, [{ role: 'user', content: 'next' }]);
});

test('the new message is sent even when it alone is over the budget', () => {
  const huge = '长'.repeat(5000);
  const window = buildContextWindow({ systemPrompt: '你是助手。', history: turns(3), userMessage: huge, maxTokens: 100 });
  assert.deepEqual(window.messages, [
    { role: 'system', content: '你是助手。' },
    { role: 'user', content: huge },
  ]);
  assert.equal(window.droppedMessages, 6);
  assert.ok(window.estimatedTokens > 100);
});

test('for every budget the window is a contiguous newest suffix, within budget, growing with the budget', () => {
  const history = turns(10);
  const usable = history.map((m) => `${m.role}:${m.text}`);
  let previousLength = 0;
  for (let maxTokens = 0; maxTokens <= 400; maxTokens += 7) {
    const window = buildContextWindow({ systemPrompt: 'sys', history, userMessage: 'q', maxTokens });
    const kept = window.messages.slice(1, -1).map((m) => `${m.role}:${m.content}`);
    assert.deepEqual(kept, usable.slice(usable.length - kept.length), `budget ${maxTokens}`);
    assert.equal(kept.length + window.droppedMessages, usable.length);
    assert.ok(kept.length === 0 || kept[0]?.startsWith('user:'));
    if (kept.length > 0) assert.ok(window.estimatedTokens <= maxTokens, `budget ${maxTokens}`);
    assert.ok(kept.length >= previousLength);
    previousLength = kept.length;
  }
  assert.equal(previousLength, 20);
});
