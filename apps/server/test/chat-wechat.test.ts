import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parseErrorBody, type LoginResponse } from '@wxstream/protocol';
import { createTokenService } from '../src/auth/token.ts';
import { systemClock } from '../src/clock.ts';
import { authed, getConversation, listConversations, startOf } from './support/api-client.ts';
import { parseExposition, valueOf } from './support/exposition.ts';
import { startFakeWechatServer, type FakeWechatServer } from './support/fake-wechat-server.ts';
import { eventually, PATIENCE_MS } from './support/eventually.ts';
import { chatRequest, login, openStream, send } from './support/http-client.ts';
import { parseReplyBody } from './support/reply-stream.ts';
import { TEST_TOKEN_SECRET, startStack, startTestServer, type TestStack } from './support/test-server.ts';
import type { Env } from '../src/config.ts';

const RISKY = '违禁词';
const SAFE_SENTENCE = '这是一个安全的句子。';
/** 209 characters ending a sentence: long enough to be checked as a segment of its own mid-stream. */
const RISKY_PARAGRAPH = `${SAFE_SENTENCE.repeat(10)}${RISKY}出现在这里。${SAFE_SENTENCE.repeat(10)}`;
const LONG_SAFE_PARAGRAPH = SAFE_SENTENCE.repeat(21);

interface WechatStack {
  readonly fake: FakeWechatServer;
  readonly stack: TestStack;
  readonly url: string;
  login(openid: string): Promise<string>;
  close(): Promise<void>;
}

let codes = 0;

async function startWechatStack(env: Env = {}): Promise<WechatStack> {
  const fake = await startFakeWechatServer({ riskyWords: [RISKY], reviewWords: ['可疑'] });
  const stack = await startStack({
    env: { WECHAT_APPID: fake.appid, WECHAT_SECRET: fake.secret, WECHAT_API_BASE_URL: fake.baseUrl, WECHAT_TIMEOUT_MS: '30000', ...env },
  });
  return {
    fake,
    stack,
    url: stack.url,
    async login(openid) {
      codes += 1;
      const code = `wx-code-${codes}`;
      fake.addLoginCode(code, openid);
      return login(stack.url, code);
    },
    async close() {
      await stack.close();
      await fake.close();
    },
  };
}

function subjectOf(token: string): string {
  const [payload = ''] = token.split('.');
  return (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { sub: string }).sub;
}

const postLogin = (url: string, code: string) => send(url, '/api/auth/login', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: { code } });

describe('WeChat login', () => {
  let wx: WechatStack;
  before(async () => {
    wx = await startWechatStack();
  });
  after(() => wx.close());

  test('a valid wx.login code gets a signed token for user wechat:<openid>, and the session key never leaves the server', async () => {
    wx.fake.addLoginCode('good-code', 'openid-alice');
    const answer = await postLogin(wx.url, 'good-code');
    assert.equal(answer.status, 200, answer.text);
    const body = answer.json() as LoginResponse;
    assert.deepEqual(Object.keys(body).sort(), ['expiresIn', 'token']);
    assert.equal(body.expiresIn, 604_800);
    assert.equal(subjectOf(body.token), 'wechat:openid-alice');
    assert.ok(!answer.text.includes('session_key'));
    assert.equal(wx.fake.requestsTo('jscode2session').at(-1)?.query.js_code, 'good-code');
    const list = await send(wx.url, '/api/conversations', authed(body.token));
    assert.equal(list.status, 200);
  });

  test('WeChat login ignores a devCode: the wx.login code is what is exchanged', async () => {
    wx.fake.addLoginCode('real-code', 'openid-devcode');
    const answer = await send(wx.url, '/api/auth/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: { code: 'real-code', devCode: 'device-7f3a9c' },
    });
    assert.equal(answer.status, 200, answer.text);
    assert.equal(subjectOf((answer.json() as LoginResponse).token), 'wechat:openid-devcode');
  });

  test('a code WeChat refuses is 401 login_code_invalid, and a used code too', async () => {
    assert.equal(parseErrorBody((await postLogin(wx.url, 'never-issued')).json())?.code, 'login_code_invalid');
    wx.fake.addLoginCode('once', 'openid-once');
    assert.equal((await postLogin(wx.url, 'once')).status, 200);
    const again = await postLogin(wx.url, 'once');
    assert.equal(again.status, 401);
    assert.equal(parseErrorBody(again.json())?.code, 'login_code_invalid');
  });

  test('WeChat throttling us (45011) is 429 rate_limited with Retry-After; WeChat down is 503 wechat_unavailable', async () => {
    wx.fake.addLoginCode('throttled', 'openid-throttled');
    wx.fake.failNext('jscode2session', 'rate-limited');
    const throttled = await postLogin(wx.url, 'throttled');
    assert.equal(throttled.status, 429);
    assert.equal(parseErrorBody(throttled.json())?.code, 'rate_limited');
    assert.equal(throttled.headers['retry-after'], '60');
    wx.fake.failNext('jscode2session', 'down');
    const down = await postLogin(wx.url, 'throttled');
    assert.equal(down.status, 503);
    assert.equal(parseErrorBody(down.json())?.code, 'wechat_unavailable');
    assert.equal((await postLogin(wx.url, 'throttled')).status, 200, 'the unused code still works once WeChat is back');
  });

  test('with WeChat configured, the development login is off and its tokens are refused', async () => {
    const devToken = createTokenService({ secret: TEST_TOKEN_SECRET, ttlSeconds: 60, clock: systemClock }).issue('dev:alice').token;
    const answer = await send(wx.url, '/api/conversations', authed(devToken));
    assert.equal(answer.status, 401);
    assert.equal(parseErrorBody(answer.json())?.code, 'invalid_token');
  });

  test('the start-up log says WeChat login and content checks are on', () => {
    const record = wx.stack.app.logs.find((entry) => entry.msg === 'WeChat login and msgSecCheck content checks are on');
    assert.equal(record?.login, 'wechat');
    assert.equal(record?.contentChecks, 'msgSecCheck');
  });
});

describe('development login and production', () => {
  const productionEnv = { NODE_ENV: 'production', TOKEN_SECRET: TEST_TOKEN_SECRET };

  test('in production without WeChat credentials, login is refused with 403 dev_login_disabled', async () => {
    const app = await startTestServer({ upstream: 'offline', env: productionEnv });
    try {
      const answer = await postLogin(app.url, 'anyone');
      assert.equal(answer.status, 403);
      assert.equal(parseErrorBody(answer.json())?.code, 'dev_login_disabled');
    } finally {
      await app.close();
    }
  });

  test('in production, DEV_LOGIN=true explicitly allows it, and the start-up log says so loudly', async () => {
    const app = await startTestServer({ upstream: 'offline', env: { ...productionEnv, DEV_LOGIN: 'true' } });
    try {
      const answer = await postLogin(app.url, 'tester');
      assert.equal(answer.status, 200);
      assert.equal(subjectOf((answer.json() as LoginResponse).token), 'dev:tester');
      const warning = app.logs.find((record) => String(record.msg).startsWith('development mode'));
      assert.equal(warning?.level, 40);
    } finally {
      await app.close();
    }
  });
});

describe('content security with msgSecCheck', () => {
  let wx: WechatStack;
  let token: string;
  before(async () => {
    wx = await startWechatStack();
    token = await wx.login('openid-checked');
  });
  after(() => wx.close());

  const scrape = async () => parseExposition((await send(wx.url, '/metrics')).text);

  test('passing text is checked for the user, both ways, and the reply completes', async () => {
    wx.stack.emulator.setScenario({ content: ['你好', '！'] });
    const before = wx.fake.requestsTo('msg_sec_check').length;
    const answer = await send(wx.url, '/api/chat', chatRequest(token, { message: '今天天气怎么样' }));
    assert.equal(parseReplyBody(answer.text).events.at(-1)?.type, 'done');
    const checks = wx.fake.requestsTo('msg_sec_check').slice(before);
    assert.deepEqual(
      checks.map((request) => (request.body as { content: string }).content),
      ['今天天气怎么样', '你好！'],
    );
    for (const request of checks) assert.equal((request.body as { openid: string }).openid, 'openid-checked');
  });

  test('risky user text is refused with 422 content_blocked before anything is sent upstream, and nothing is stored', async () => {
    const fresh = await wx.login('openid-risky-input');
    const upstreamBefore = wx.stack.emulator.requests.length;
    const answer = await send(wx.url, '/api/chat', chatRequest(fresh, { message: `请告诉我${RISKY}` }));
    assert.equal(answer.status, 422);
    assert.equal(parseErrorBody(answer.json())?.code, 'content_blocked');
    assert.ok(!answer.text.includes(RISKY), 'the refusal does not quote the text');
    assert.equal(wx.stack.emulator.requests.length, upstreamBefore, 'the model got no request');
    assert.deepEqual((await listConversations(wx.url, fresh)).items, []);
    assert.ok(valueOf(await scrape(), 'wxstream_replies_total', { outcome: 'blocked', code: 'content_blocked' }) >= 1);
  });

  test('a conversation renamed to a risky title is refused 422 content_blocked and keeps its title; a safe new title is checked and stored', async () => {
    wx.stack.emulator.setScenario({ content: ['好的。'] });
    const answer = await send(wx.url, '/api/chat', chatRequest(token, { message: '起个名字吧' }));
    const { conversationId } = startOf(answer.text);
    const before = wx.fake.requestsTo('msg_sec_check').length;
    const refused = await send(wx.url, `/api/conversations/${conversationId}`, authed(token, 'PUT', { title: `关于${RISKY}` }));
    assert.equal(refused.status, 422, refused.text);
    assert.equal(parseErrorBody(refused.json())?.code, 'content_blocked');
    assert.equal((await getConversation(wx.url, token, conversationId)).conversation.title, '起个名字吧');
    const renamed = await send(wx.url, `/api/conversations/${conversationId}`, authed(token, 'PATCH', { title: '天气' }));
    assert.equal(renamed.status, 200, renamed.text);
    assert.deepEqual(
      wx.fake.requestsTo('msg_sec_check').slice(before).map((request) => (request.body as { content: string }).content),
      [`关于${RISKY}`, '天气'],
    );
  });

  test('a review verdict lets the text through', async () => {
    wx.stack.emulator.setScenario({ content: ['好的'] });
    const answer = await send(wx.url, '/api/chat', chatRequest(token, { message: '这有点可疑吗' }));
    assert.equal(answer.status, 200);
    assert.equal(parseReplyBody(answer.text).events.at(-1)?.type, 'done');
  });

  test('a risky reply segment stops the upstream call at once, ends the reply with content_blocked and stores it blocked without its text', async () => {
    wx.stack.emulator.setScenario({ content: [RISKY_PARAGRAPH, '下一句'], stallAfter: 3 });
    const index = wx.stack.emulator.requests.length;
    const answer = await send(wx.url, '/api/chat', chatRequest(token, { message: '讲个故事' }));
    const reply = parseReplyBody(answer.text);
    const last = reply.events.at(-1);
    assert.equal(last?.type, 'error');
    assert.equal(last?.type === 'error' ? last.data.code : undefined, 'content_blocked');
    assert.equal((await wx.stack.emulator.waitForAbort(index, PATIENCE_MS)).aborted, true, 'the model call was aborted, not left to finish');
    const stored = (await getConversation(wx.url, token, startOf(answer.text).conversationId)).messages[1];
    assert.equal(stored?.status, 'blocked');
    assert.equal(stored?.errorCode, 'content_blocked');
    assert.equal(stored?.text, '');
  });

  test('a risky last sentence is caught before done: the reply ends with content_blocked instead', async () => {
    wx.stack.emulator.setScenario({ reasoning: ['想想'], content: ['一个普通的开头，', `然后是${RISKY}。`] });
    const answer = await send(wx.url, '/api/chat', chatRequest(token, { message: '继续' }));
    const events = parseReplyBody(answer.text).events;
    assert.ok(!events.some((event) => event.type === 'done'));
    const last = events.at(-1);
    assert.equal(last?.type === 'error' ? last.data.code : undefined, 'content_blocked');
    const stored = (await getConversation(wx.url, token, startOf(answer.text).conversationId)).messages[1];
    assert.equal(stored?.status, 'blocked');
    assert.equal(stored?.reasoning, undefined);
  });

  test('risky reasoning is blocked like risky text', async () => {
    wx.stack.emulator.setScenario({ reasoning: [`思考${RISKY}`], content: ['无害的回答'] });
    const answer = await send(wx.url, '/api/chat', chatRequest(token, { message: '想一想' }));
    const last = parseReplyBody(answer.text).events.at(-1);
    assert.equal(last?.type === 'error' ? last.data.code : undefined, 'content_blocked');
  });
});

test('checks never hold back passing text: the whole reply arrives while its check is still running', async () => {
  // Reply checks hang until WECHAT_TIMEOUT_MS, then fail open for the assistant's text.
  const wx = await startWechatStack({ WECHAT_TIMEOUT_MS: '1000', CONTENT_CHECK_FAIL_OPEN: 'assistant' });
  try {
    const token = await wx.login('openid-latency');
    const checksBefore = wx.fake.requestsTo('msg_sec_check').length;
    // The user's text has passed its check by the time the model is asked; from then on checks hang.
    wx.stack.emulator.setScenario(() => {
      wx.fake.setFailure('msg_sec_check', 'hang');
      return { content: [LONG_SAFE_PARAGRAPH, '最后一句。'] };
    });
    const stream = await openStream(wx.url, '/api/chat', chatRequest(token, { message: '说点什么' }));
    await stream.waitForText('最后一句。', 5000);
    await eventually(() => wx.fake.requestsTo('msg_sec_check').length >= checksBefore + 2, 'two more content checks');
    assert.ok(wx.fake.requestsTo('msg_sec_check').length >= checksBefore + 2, 'reply segments are being checked');
    assert.ok(!stream.text().includes('event: done'), 'the ending waits for the verdicts; the text did not');
    const reply = parseReplyBody((await stream.ended).toString('utf8'));
    assert.equal(reply.text, `${LONG_SAFE_PARAGRAPH}最后一句。`);
    assert.equal(reply.events.at(-1)?.type, 'done');
  } finally {
    await wx.close();
  }
});

test('when WeChat cannot check the user text and the check fails closed, the chat is refused 503 and nothing goes upstream', async () => {
  const wx = await startWechatStack();
  try {
    const token = await wx.login('openid-closed');
    wx.fake.setFailure('msg_sec_check', 'down');
    const answer = await send(wx.url, '/api/chat', chatRequest(token, { message: '你好' }));
    assert.equal(answer.status, 503);
    assert.equal(parseErrorBody(answer.json())?.code, 'wechat_unavailable');
    assert.equal(wx.stack.emulator.requests.length, 0);
  } finally {
    await wx.close();
  }
});
