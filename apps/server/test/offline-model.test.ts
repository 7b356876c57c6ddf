import assert from 'node:assert/strict';
import { test } from 'node:test';
import { composeOfflineReply, composeOfflineTitle, echoQuestion, splitIntoChunks } from '../src/offline-model/offline-reply.ts';
import { chatRequest, login, send } from './support/http-client.ts';
import { parseReplyBody } from './support/reply-stream.ts';
import { startEmulator, startTestServer } from './support/test-server.ts';

test('with no model configured the offline model answers through the SDK, quoting the question and naming the variables', async () => {
  const app = await startTestServer({ upstream: 'offline' });
  try {
    assert.equal(app.server.upstream.kind, 'offline');
    assert.equal(app.server.upstream.model, 'wxstream-offline');
    const token = await login(app.url);
    const answer = await send(app.url, '/api/chat', chatRequest(token, { message: '帮我写一首诗 ✍️' }));
    assert.equal(answer.status, 200);
    const reply = parseReplyBody(answer.text);
    const start = reply.events[0];
    assert.equal(start?.type === 'start' ? start.data.model : undefined, 'wxstream-offline');
    assert.equal(reply.text, composeOfflineReply('帮我写一首诗 ✍️').answer);
    for (const name of ['OPENAI_API_KEY', 'OPENAI_BASE_URL', 'OPENAI_MODEL', 'DeepSeek', 'Ollama', '```bash']) {
      assert.ok(reply.text.includes(name), `mentions ${name}`);
    }
    assert.match(reply.text, /帮我写一首诗 ✍️/);
    assert.match(reply.reasoning, /no model configured/);
    assert.ok(reply.events.filter((event) => event.type === 'delta').length > 20, 'streamed in many small pieces');
    const usage = reply.events.find((event) => event.type === 'usage');
    assert.ok(usage !== undefined);
    assert.equal(reply.events.at(-1)?.type, 'done');
  } finally {
    await app.close();
  }
});

test('the offline reply cuts long questions at 80 graphemes and collapses whitespace', () => {
  assert.equal(echoQuestion('  hello \n\n world  '), 'hello world');
  const long = '👍🏽'.repeat(100);
  assert.equal(echoQuestion(long), `${'👍🏽'.repeat(80)}…`);
});

test('offline chunks reassemble to the text and never split a grapheme', () => {
  const text = composeOfflineReply('家庭 👨‍👩‍👧 emoji').answer;
  const chunks = splitIntoChunks(text);
  assert.equal(chunks.join(''), text);
  assert.ok(chunks.some((chunk) => chunk.includes('👨‍👩‍👧')), 'the family emoji stays in one chunk');
  assert.ok(chunks.every((chunk) => chunk.length > 0));
});

test('the emulator also answers without streaming and lists its model', async () => {
  const emulator = await startEmulator({ model: 'listed-model', scenario: { reasoning: ['想'], content: ['Hi', ' there'] } });
  try {
    const models = await fetch(`${emulator.baseURL}/models`);
    assert.deepEqual(await models.json(), { object: 'list', data: [{ id: 'listed-model', object: 'model', created: 0, owned_by: 'wxstream' }] });
    const completion = await fetch(`${emulator.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ model: 'listed-model', messages: [{ role: 'user', content: 'abc' }] }),
    });
    const body = (await completion.json()) as { object: string; choices: Array<{ message: unknown; finish_reason: string }>; usage: unknown };
    assert.equal(body.object, 'chat.completion');
    assert.deepEqual(body.choices[0]?.message, { role: 'assistant', content: 'Hi there', reasoning_content: '想' });
    assert.equal(body.choices[0]?.finish_reason, 'stop');
    assert.deepEqual(body.usage, { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 });
    assert.equal(emulator.requests[0]?.stream, false);
  } finally {
    await emulator.close();
  }
});

test('the offline title is the question’s first whole words, without closing punctuation', () => {
  assert.equal(composeOfflineTitle('怎么接入 DeepSeek？'), '怎么接入 DeepSeek');
  assert.equal(composeOfflineTitle('  How do I configure OpenAI compatible providers?  '), 'How do I');
  assert.equal(composeOfflineTitle('？？'), '离线模型的说明');
});
