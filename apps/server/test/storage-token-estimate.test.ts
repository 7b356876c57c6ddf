import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  estimateMessageTokens,
  estimatePromptTokens,
  estimateTokens,
  estimateUsage,
  MESSAGE_OVERHEAD_TOKENS,
  REPLY_PRIMING_TOKENS,
} from '../src/storage/token-estimate.ts';

test('the empty text costs nothing', () => {
  assert.equal(estimateTokens(''), 0);
});

test('Chinese costs one token per character, punctuation included', () => {
  assert.equal(estimateTokens('今天天气怎么样'), 7);
  assert.equal(estimateTokens('你好，世界！'), 6); // fullwidth comma and exclamation mark
  assert.equal(estimateTokens('「引号」。'), 5);
});

test('Japanese kana and Korean Hangul count like Chinese', () => {
  assert.equal(estimateTokens('ひらがなカタカナ'), 8);
  assert.equal(estimateTokens('안녕하세요'), 5);
});

test('a CJK ideograph outside the Basic Multilingual Plane is one token, not two', () => {
  assert.equal(estimateTokens('𠮷野家'), 3);
});

test('English costs a quarter token per character, rounded up over the whole text', () => {
  assert.equal(estimateTokens('abcd'), 1);
  assert.equal(estimateTokens('abcde'), 2);
  assert.equal(estimateTokens('The quick brown fox jumps over the lazy dog.'), 11); // 44 characters
});

test('mixed Chinese and English adds both rates', () => {
  // 5 hanzi + "GPT-4o " (7 ASCII) + 2 hanzi: 5 + 7/4 + 2 = 8.75
  assert.equal(estimateTokens('请帮我解释GPT-4o 模型'), 9);
  // "Node.js " (8 ASCII) + 5 hanzi + "fetch" (5 ASCII) + ？ (fullwidth): 8/4 + 5 + 5/4 + 1 = 9.25
  assert.equal(estimateTokens('Node.js 里面怎么用fetch？'), 10);
});

test('emoji and other non-ASCII letters count half a token each', () => {
  assert.equal(estimateTokens('😀😀'), 1);
  assert.equal(estimateTokens('Привет'), 3);
  assert.equal(estimateTokens('café'), 2); // 3/4 + 1/2
});

test('a chat message adds its overhead and a prompt adds the reply priming', () => {
  assert.equal(estimateMessageTokens({ content: '你好' }), 2 + MESSAGE_OVERHEAD_TOKENS);
  assert.equal(estimateMessageTokens({ content: '' }), MESSAGE_OVERHEAD_TOKENS);
  const prompt = [{ content: 'You are helpful.' }, { content: '你好' }];
  assert.equal(estimatePromptTokens(prompt), REPLY_PRIMING_TOKENS + (4 + MESSAGE_OVERHEAD_TOKENS) + (2 + MESSAGE_OVERHEAD_TOKENS));
  assert.equal(estimatePromptTokens([]), REPLY_PRIMING_TOKENS);
});

test('estimated usage charges the prompt as sent and the completion as received', () => {
  const prompt = [{ content: '讲个笑话' }];
  assert.deepEqual(estimateUsage(prompt, '从前有座山。'), {
    promptTokens: REPLY_PRIMING_TOKENS + MESSAGE_OVERHEAD_TOKENS + 4,
    completionTokens: 6,
  });
});

test('the estimate grows with the text and never shrinks when text is appended', () => {
  let previous = 0;
  let text = '';
  for (const piece of ['a', '中', '😀', 'é', ' ', '文', 'xyz']) {
    text += piece;
    const tokens = estimateTokens(text);
    assert.ok(tokens >= previous, `${JSON.stringify(text)}: ${tokens} < ${previous}`);
    previous = tokens;
  }
});
