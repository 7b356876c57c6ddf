/**
 * Follow-up questions and titles through the real server: what the stream carries, what the model
 * is asked, what the quota counts, what the content check removes — with the emulator, the fake
 * WeChat server and the offline model.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseErrorBody, type ReplyEvent, type ShareCreated, type SharedConversation } from '@wxstream/protocol';
import type { EmulatorScenario, RecordedRequest } from '../src/offline-model/openai-compatible-emulator.ts';
import { composeOfflineTitle, OFFLINE_FOLLOW_UPS } from '../src/offline-model/offline-reply.ts';
import { sideTaskOf } from '../src/side-calls/side-call-prompts.ts';
import { authed, getConversation, sendChat, startOf } from './support/api-client.ts';
import { describeOnBothStores } from './support/both-stores.ts';
import { startFakeWechatServer, type FakeWechatServer } from './support/fake-wechat-server.ts';
import { login, send } from './support/http-client.ts';
import { parseReplyBody } from './support/reply-stream.ts';
import { startStack, startTestServer, type TestServer, type TestStack } from './support/test-server.ts';
import type { Env } from '../src/config.ts';

const RISKY = '违禁词';

/** Replies `好的`; a title or follow-up request gets what the test put in `sideAnswers`. */
function scenarioWith(sideAnswers: { title?: EmulatorScenario; 'follow-ups'?: EmulatorScenario }) {
  return (request: RecordedRequest): EmulatorScenario => {
    const task = request.stream ? undefined : sideTaskOf(request.messages);
    const side = task === undefined ? undefined : sideAnswers[task];
    if (side !== undefined) return side;
    return { content: ['好', '的'], usage: { promptTokens: 10, completionTokens: 10 } };
  };
}

const sideRequests = (stack: TestStack, task: 'title' | 'follow-ups') => stack.emulator.requests.filter((request) => !request.stream && sideTaskOf(request.messages) === task);

async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Waits for the log record the titler writes when it is done with a conversation. */
function titled(app: TestServer, conversationId: string): Promise<Record<string, unknown>> {
  return until('the titler to finish', async () =>
    app.logs.find((record) => record.conversationId === conversationId && /title/.test(String(record.msg)) && record.msg !== 'reply finished'),
  );
}

describe('follow-up questions', () => {
  const sides: { title?: EmulatorScenario; 'follow-ups'?: EmulatorScenario } = {};
  let stack: TestStack;
  let token: string;
  before(async () => {
    stack = await startStack({ scenario: scenarioWith(sides), env: { FOLLOW_UP_SUGGESTIONS: 'true' } });
    token = await login(stack.url, 'alice');
  });
  after(() => stack.close());

  test('arrive as one suggestions event right before usage and done, read from the model’s answer', async () => {
    sides['follow-ups'] = { content: ['1. 为什么日落是红的？\n2. 火星的天空呢？\n- 云为什么是白的？\n4. 第四个？'] };
    const answer = await sendChat(stack.url, token, { message: '天空为什么是蓝的？' });
    const events = parseReplyBody(answer.text).events;
    assert.deepEqual(
      events.slice(-3).map((event) => event.type),
      ['suggestions', 'usage', 'done'],
    );
    const suggestions = events.at(-3) as Extract<ReplyEvent, { type: 'suggestions' }>;
    assert.deepEqual(suggestions.data.items, ['为什么日落是红的？', '火星的天空呢？', '云为什么是白的？']);
    const asked = sideRequests(stack, 'follow-ups').at(-1);
    assert.match(String(asked?.messages.at(-1)?.content), /天空为什么是蓝的？[\s\S]*好的/, 'the model saw the question and the reply');
  });

  test('a failed follow-up call sends none, and done still comes', async () => {
    sides['follow-ups'] = { httpError: { status: 500, message: 'boom' } };
    const events = parseReplyBody((await sendChat(stack.url, token, { message: '再问' })).text).events;
    assert.ok(!events.some((event) => event.type === 'suggestions'));
    assert.deepEqual(events.at(-1), { id: events.length, type: 'done', data: { finishReason: 'stop' } });
  });

  test('a reply cut by length is offered none, and the model is not asked', async () => {
    await stack.close();
    stack = await startStack({
      scenario: (request) => (request.stream ? { content: ['半'], finishReason: 'length' } : { content: ['不该问'] }),
      env: { FOLLOW_UP_SUGGESTIONS: 'true' },
    });
    token = await login(stack.url, 'alice');
    const events = parseReplyBody((await sendChat(stack.url, token, { message: '长回答' })).text).events;
    assert.ok(!events.some((event) => event.type === 'suggestions'));
    assert.equal(sideRequests(stack, 'follow-ups').length, 0);
  });
});

describeOnBothStores('side calls count against the daily quota', (storeEnv) => {
  test('a reply’s follow-up call is counted: the next message is refused once the two together pass the quota', async () => {
    const stack = await startStack({
      scenario: scenarioWith({ 'follow-ups': { content: ['追问？'], usage: { promptTokens: 100, completionTokens: 10 } } }),
      env: { ...(await storeEnv()), FOLLOW_UP_SUGGESTIONS: 'true', DAILY_TOKEN_QUOTA: '50' },
    });
    try {
      const token = await login(stack.url, 'alice');
      assert.equal((await sendChat(stack.url, token, { message: '一' })).status, 200);
      const refused = await sendChat(stack.url, token, { message: '二' });
      assert.equal(refused.status, 429, 'the reply alone (20 tokens) fits in 50; with its follow-up call (110) it does not');
      assert.equal(parseErrorBody(refused.json())?.code, 'quota_exceeded');
    } finally {
      await stack.close();
    }
  });

  test('a title call is counted too', async () => {
    const stack = await startStack({
      scenario: scenarioWith({ title: { content: ['天空的颜色'], usage: { promptTokens: 100, completionTokens: 5 } } }),
      env: { ...(await storeEnv()), TITLE_GENERATION: 'true', DAILY_TOKEN_QUOTA: '50' },
    });
    try {
      const token = await login(stack.url, 'alice');
      const { conversationId } = startOf((await sendChat(stack.url, token, { message: '天空为什么是蓝的？' })).text);
      await titled(stack.app, conversationId);
      const refused = await sendChat(stack.url, token, { message: '二' });
      assert.equal(parseErrorBody(refused.json())?.code, 'quota_exceeded');
    } finally {
      await stack.close();
    }
  });
});

describeOnBothStores('titles', (storeEnv) => {
  const sides: { title?: EmulatorScenario; 'follow-ups'?: EmulatorScenario } = {};
  let stack: TestStack;
  let token: string;
  before(async () => {
    stack = await startStack({ scenario: scenarioWith(sides), env: { ...(await storeEnv()), TITLE_GENERATION: 'true' } });
    token = await login(stack.url, 'alice');
  });
  after(() => stack.close());

  test('after the first reply the model titles the conversation, once; later turns do not ask again', async () => {
    sides.title = { content: ['标题：「天空的颜色」。'] };
    const { conversationId } = startOf((await sendChat(stack.url, token, { message: '天空为什么是蓝的？请详细解释一下' })).text);
    const title = await until('the model title', async () => {
      const current = (await getConversation(stack.url, token, conversationId)).conversation.title;
      return current === '天空的颜色' ? current : undefined;
    });
    assert.equal(title, '天空的颜色');
    const titleCalls = sideRequests(stack, 'title').length;
    assert.match(String(sideRequests(stack, 'title').at(-1)?.messages.at(-1)?.content), /天空为什么是蓝的/);
    await sendChat(stack.url, token, { message: '那日落呢？', conversationId });
    assert.equal(sideRequests(stack, 'title').length, titleCalls, 'only the first turn is titled');
  });

  test('a failed or empty title keeps the first message’s words', async () => {
    for (const [index, side] of [{ httpError: { status: 503, message: 'busy' } }, { content: ['「」'] }].entries()) {
      sides.title = side;
      const question = `保持原标题 ${index}`;
      const { conversationId } = startOf((await sendChat(stack.url, token, { message: question })).text);
      await titled(stack.app, conversationId);
      assert.equal((await getConversation(stack.url, token, conversationId)).conversation.title, question);
    }
  });

  test('a title the user chose is never replaced, not even when the first turn is regenerated', async () => {
    sides.title = { content: ['模型的标题'] };
    const { conversationId } = startOf((await sendChat(stack.url, token, { message: '我来起名' })).text);
    await until('the model title', async () =>
      (await getConversation(stack.url, token, conversationId)).conversation.title === '模型的标题' ? true : undefined,
    );
    assert.equal((await send(stack.url, `/api/conversations/${conversationId}`, authed(token, 'PUT', { title: '我的标题' }))).status, 200);
    const calls = sideRequests(stack, 'title').length;
    await sendChat(stack.url, token, { conversationId, regenerate: true });
    await until('the titler to pass', async () =>
      stack.app.logs.some((record) => record.conversationId === conversationId && record.msg === 'the conversation has its title; not asking the model') ? true : undefined,
    );
    assert.equal(sideRequests(stack, 'title').length, calls, 'the model was not asked');
    assert.equal((await getConversation(stack.url, token, conversationId)).conversation.title, '我的标题');
  });
});

describe('with WeChat content checks', () => {
  let fake: FakeWechatServer;
  let stack: TestStack;
  let token: string;
  const sides: { title?: EmulatorScenario; 'follow-ups'?: EmulatorScenario } = {};
  let reply = ['好', '的'];
  before(async () => {
    fake = await startFakeWechatServer({ riskyWords: [RISKY] });
    const env: Env = { WECHAT_APPID: fake.appid, WECHAT_SECRET: fake.secret, WECHAT_API_BASE_URL: fake.baseUrl, TITLE_GENERATION: 'true', FOLLOW_UP_SUGGESTIONS: 'true' };
    stack = await startStack({
      scenario: (request) => {
        const task = request.stream ? undefined : sideTaskOf(request.messages);
        return (task === undefined ? undefined : sides[task]) ?? { content: reply };
      },
      env,
    });
    fake.addLoginCode('code-alice', 'openid-alice');
    token = await login(stack.url, 'code-alice');
  });
  after(async () => {
    await stack.close();
    await fake.close();
  });

  test('a risky follow-up question is dropped and the others are sent', async () => {
    sides['follow-ups'] = { content: [`安全的问题？\n带${RISKY}的问题？\n另一个问题？`] };
    sides.title = { content: ['普通标题'] };
    const events = parseReplyBody((await sendChat(stack.url, token, { message: '你好' })).text).events;
    const suggestions = events.find((event) => event.type === 'suggestions');
    assert.deepEqual(suggestions?.type === 'suggestions' ? suggestions.data.items : undefined, ['安全的问题？', '另一个问题？']);
  });

  test('a risky title is not stored: the conversation keeps the first message’s words', async () => {
    sides.title = { content: [`${RISKY}标题`] };
    const { conversationId } = startOf((await sendChat(stack.url, token, { message: '起个标题' })).text);
    await titled(stack.app, conversationId);
    assert.equal((await getConversation(stack.url, token, conversationId)).conversation.title, '起个标题');
  });

  test('a risky feedback comment is 422 content_blocked and nothing is stored', async () => {
    const { messageId, conversationId } = startOf((await sendChat(stack.url, token, { message: '评价' })).text);
    const refused = await send(stack.url, `/api/messages/${messageId}/feedback`, authed(token, 'PUT', { rating: 'down', comment: `含${RISKY}` }));
    assert.equal(refused.status, 422);
    assert.equal(parseErrorBody(refused.json())?.code, 'content_blocked');
    assert.equal((await getConversation(stack.url, token, conversationId)).messages[1]?.feedback, undefined);
    assert.equal((await send(stack.url, `/api/messages/${messageId}/feedback`, authed(token, 'PUT', { rating: 'down', comment: '答非所问' }))).status, 204);
  });

  test('an edit whose new question is risky is 422 before anything goes upstream, and the turn stays as it was', async () => {
    const first = startOf((await sendChat(stack.url, token, { message: '原来的问题' })).text);
    // Chats only: the first reply's title is asked for in the background meanwhile.
    const chats = () => stack.emulator.requests.filter((request) => request.stream).length;
    const chatsBefore = chats();
    const refused = await sendChat(stack.url, token, { conversationId: first.conversationId, message: `改成${RISKY}`, editOf: first.userMessageId });
    assert.equal(refused.status, 422);
    assert.equal(parseErrorBody(refused.json())?.code, 'content_blocked');
    assert.equal(chats(), chatsBefore);
    const detail = await getConversation(stack.url, token, first.conversationId);
    assert.deepEqual(detail.messages.map((message) => message.id), [first.userMessageId, first.messageId]);
    assert.equal(detail.messages[1]?.versions, undefined);
  });

  test('a blocked reply and its question are never shared', async () => {
    const { conversationId } = startOf((await sendChat(stack.url, token, { message: '第一问' })).text);
    reply = [`这里有${RISKY}。`];
    try {
      const blocked = parseReplyBody((await sendChat(stack.url, token, { message: '第二问', conversationId })).text).events.at(-1);
      assert.equal(blocked?.type === 'error' ? blocked.data.code : blocked?.type, 'content_blocked');
    } finally {
      reply = ['好', '的'];
    }
    const share = (await send(stack.url, `/api/conversations/${conversationId}/shares`, authed(token, 'POST'))).json() as ShareCreated;
    const shared = (await send(stack.url, share.path)).json() as SharedConversation;
    assert.deepEqual(
      shared.messages.map((message) => message.text),
      ['第一问', '好的'],
    );
  });
});

describe('with the offline model', () => {
  test('titles and follow-up questions work without a configured model', async () => {
    const app = await startTestServer({ upstream: 'offline', env: { TITLE_GENERATION: 'true', FOLLOW_UP_SUGGESTIONS: 'true' } });
    try {
      const token = await login(app.url, 'alice');
      const answer = await sendChat(app.url, token, { message: '怎么接入 DeepSeek？' });
      const suggestions = parseReplyBody(answer.text).events.find((event) => event.type === 'suggestions');
      assert.deepEqual(suggestions?.type === 'suggestions' ? suggestions.data.items : undefined, OFFLINE_FOLLOW_UPS);
      const { conversationId } = startOf(answer.text);
      const expected = composeOfflineTitle('怎么接入 DeepSeek？');
      assert.equal(expected, '怎么接入 DeepSeek');
      await until('the offline title', async () => ((await getConversation(app.url, token, conversationId)).conversation.title === expected ? true : undefined));
    } finally {
      await app.close();
    }
  });
});
