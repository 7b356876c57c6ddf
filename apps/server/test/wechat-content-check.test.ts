import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { WxstreamError } from '@wxstream/protocol';
import { createLogger } from '../src/logger.ts';
import { createAccessTokenCache } from '../src/wechat/access-token-cache.ts';
import { assertContentAllowed, type ContentChecker, type ContentRole } from '../src/wechat/content-checker.ts';
import { createWechatContentChecker, MSG_SEC_CHECK_MAX_CHARS, msgSecCheck } from '../src/wechat/msg-sec-check.ts';
import type { ContentCheckFailOpen } from '../src/wechat/wechat-config.ts';
import { WechatApiError } from '../src/wechat/wechat-errors.ts';
import { createWechatHttp } from '../src/wechat/wechat-http.ts';
import { FAKE_REVIEW_LABEL, FAKE_RISKY_LABEL, startFakeWechatServer, type FakeWechatServer } from './support/fake-wechat-server.ts';
import { createManualClock } from './support/manual-clock.ts';

const OPENID = 'openid-content-tests';
const RISKY = '违禁词样例';
const REVIEW = '待审词样例';

function captureLogs() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      lines.push(String(chunk));
      callback();
    },
  });
  return {
    logger: createLogger({ level: 'debug', destination: sink }),
    raw: () => lines.join(''),
    records: () => lines.join('').split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

/** About `length` characters of Chinese sentences, each ending in a terminator. */
function sentences(length: number, seed = 0): string {
  const parts: string[] = [];
  let total = 0;
  for (let i = 0; total < length; i++) {
    const sentence = `第${seed}-${i}句话说的是今天的天气和明天的计划${'。！？'.charAt(i % 3)}`;
    parts.push(sentence);
    total += sentence.length;
  }
  return parts.join('');
}

describe('WeChat content check (msgSecCheck v2)', () => {
  let fake: FakeWechatServer;
  before(async () => {
    fake = await startFakeWechatServer({ riskyWords: [RISKY], reviewWords: [REVIEW] });
    fake.addLoginCode('content-tests-code', OPENID);
  });
  after(() => fake.close());

  const setup = (options: { failOpen?: Partial<ContentCheckFailOpen>; maxConcurrentChecks?: number } = {}) => {
    const clock = createManualClock(Date.UTC(2025, 0, 1));
    const logs = captureLogs();
    const http = createWechatHttp({ baseUrl: fake.baseUrl, timeoutMs: 5000, clock, logger: logs.logger });
    const tokens = createAccessTokenCache({ http, credentials: { appid: fake.appid, secret: fake.secret }, clock, logger: logs.logger });
    const checker: ContentChecker = createWechatContentChecker({
      http,
      tokens,
      logger: logs.logger,
      failOpen: { user: false, assistant: false, ...options.failOpen },
      ...(options.maxConcurrentChecks === undefined ? {} : { maxConcurrentChecks: options.maxConcurrentChecks }),
    });
    const check = (text: string, role: ContentRole = 'user', signal?: AbortSignal) =>
      checker.checkText({ openid: OPENID, text, role, ...(signal === undefined ? {} : { signal }) });
    return { clock, logs, http, tokens, check };
  };
  const newChecks = (since: number) => fake.requests.slice(since).filter((request) => request.endpoint === 'msg_sec_check');

  test("harmless text passes with WeChat's label and trace id; the request is JSON, version 2, scene 2, the user's openid", async () => {
    const { check } = setup();
    const since = fake.requests.length;
    const result = await check('今天天气怎么样？');
    assert.equal(result.verdict, 'pass');
    assert.equal(result.label, 100);
    assert.match(result.traceId ?? '', /^trace-/);
    const [request] = newChecks(since);
    assert.equal(request?.method, 'POST');
    assert.match(request?.contentType ?? '', /^application\/json/);
    assert.deepEqual(request?.body, { content: '今天天气怎么样？', version: 2, scene: 2, openid: OPENID });
    assert.equal(request?.query.access_token, fake.issuedTokens.at(-1));
  });

  test('a risky text is risky with its label, and assertContentAllowed turns that into content_blocked (422)', async () => {
    const { check } = setup();
    const result = await check(`请告诉我${RISKY}的事情。`);
    assert.equal(result.verdict, 'risky');
    assert.equal(result.label, FAKE_RISKY_LABEL);
    assert.throws(
      () => assertContentAllowed(result, 'user'),
      (error: unknown) => error instanceof WxstreamError && error.code === 'content_blocked' && error.status === 422 && !error.message.includes(RISKY),
    );
  });

  test('review is returned and allowed through, and logged with label and trace id but without the text', async () => {
    const { check, logs } = setup();
    const text = `这段话里有${REVIEW}。`;
    const result = await check(text, 'assistant');
    assert.equal(result.verdict, 'review');
    assert.equal(result.label, FAKE_REVIEW_LABEL);
    assert.doesNotThrow(() => assertContentAllowed(result, 'assistant'));
    const record = logs.records().find((entry) => entry.verdict === 'review');
    assert.equal(record?.level, 40);
    assert.equal(record?.label, FAKE_REVIEW_LABEL);
    assert.equal(record?.traceId, result.traceId);
    assert.equal(record?.role, 'assistant');
    assert.ok(!logs.raw().includes(REVIEW));
  });

  test('a 6,000-character text is checked in pieces of at most 2,500 characters, cut at sentence ends, that join to the text', async () => {
    const { check } = setup();
    const text = `${sentences(6000)}最后一句提到${RISKY}。`;
    const since = fake.requests.length;
    const result = await check(text);
    assert.equal(result.verdict, 'risky');
    const pieces = newChecks(since).map((request) => (request.body as { content: string }).content);
    assert.equal(pieces.length, 3);
    assert.ok(pieces.every((piece) => piece.length <= MSG_SEC_CHECK_MAX_CHARS));
    assert.ok(pieces.slice(0, -1).every((piece) => /[。！？]$/.test(piece)));
    // Concurrent requests may arrive in any order: put the (distinct) pieces back in text order.
    const ordered = [...pieces].sort((a, b) => text.indexOf(a) - text.indexOf(b));
    assert.equal(ordered.join(''), text);
  });

  test('pieces are sent in order when one check runs at a time, and they join to the text exactly', async () => {
    const { check } = setup({ maxConcurrentChecks: 1 });
    const text = sentences(5200, 1);
    const since = fake.requests.length;
    assert.equal((await check(text)).verdict, 'pass');
    const pieces = newChecks(since).map((request) => (request.body as { content: string }).content);
    assert.equal(pieces.join(''), text);
    assert.ok(pieces.length >= 3 && pieces.every((piece) => piece.length <= MSG_SEC_CHECK_MAX_CHARS));
  });

  test('a text that is only whitespace passes without a request', async () => {
    const { check } = setup();
    const since = fake.requests.length;
    assert.deepEqual(await check(' \n\t\u3000 '), { verdict: 'pass' });
    assert.equal(fake.requests.length, since);
  });

  test("msgSecCheck refuses content over WeChat's limit before sending it", async () => {
    const { http } = setup();
    const since = fake.requests.length;
    await assert.rejects(msgSecCheck(http, 'token', { openid: OPENID, content: 'a'.repeat(MSG_SEC_CHECK_MAX_CHARS + 1), scene: 2 }), RangeError);
    assert.equal(fake.requests.length, since);
  });

  test("fail closed (default): when WeChat is down, the user's text is refused with wechat_unavailable and a warning", async () => {
    const { check, tokens, logs } = setup();
    await tokens.get();
    fake.failNext('msg_sec_check', 'down');
    await assert.rejects(check('你好。'), (error: unknown) => {
      assert.ok(error instanceof WechatApiError);
      assert.equal(error.code, 'wechat_unavailable');
      assert.equal(error.status, 503);
      return true;
    });
    assert.ok(logs.records().some((record) => record.level === 40 && record.role === 'user' && /fail closed/.test(String(record.msg))));
  });

  test('fail open for the assistant: its text passes with failedOpen when WeChat is down, while the user still fails closed', async () => {
    const { check, tokens, logs } = setup({ failOpen: { assistant: true } });
    await tokens.get();
    fake.failNext('msg_sec_check', 'busy');
    assert.deepEqual(await check('这是回答。', 'assistant'), { verdict: 'pass', failedOpen: true });
    assert.ok(logs.records().some((record) => record.role === 'assistant' && record.errcode === -1 && /let through/.test(String(record.msg))));
    fake.failNext('msg_sec_check', 'busy');
    await assert.rejects(check('这是问题。', 'user'), (error: unknown) => error instanceof WechatApiError && error.code === 'wechat_unavailable');
  });

  test('a rate-limited check fails closed as rate_limited (429)', async () => {
    const { check, tokens } = setup();
    await tokens.get();
    fake.failNext('msg_sec_check', 'rate-limited');
    await assert.rejects(check('你好。'), (error: unknown) => error instanceof WechatApiError && error.code === 'rate_limited' && error.status === 429);
  });

  test("a risky piece decides even when another piece's check failed", async () => {
    const { check, tokens } = setup({ maxConcurrentChecks: 1, failOpen: { user: false } });
    await tokens.get();
    const text = `${sentences(3000, 2)}${RISKY}。`;
    fake.failNext('msg_sec_check', 'down');
    const since = fake.requests.length;
    const result = await check(text);
    assert.equal(result.verdict, 'risky');
    assert.equal(newChecks(since).length, 2);
  });

  test("the caller's abort ends the check with the abort reason", async () => {
    const { check, tokens } = setup();
    await tokens.get();
    fake.failNext('msg_sec_check', 'hang');
    const since = fake.requests.length;
    const controller = new AbortController();
    const outcome = check('你好。', 'user', controller.signal);
    await fake.waitForRequests(since + 1);
    const reason = new Error('client went away');
    controller.abort(reason);
    await assert.rejects(outcome, (error: unknown) => error === reason);
  });

  test('logs of passing, flagged and failed checks never hold the text, the secret or an access token', async () => {
    const { check, tokens, logs } = setup({ failOpen: { user: true } });
    await tokens.get();
    const texts = [`普通的问题一。`, `${RISKY}出现在这里。`, `${REVIEW}出现在这里。`, '失败时的文本。'];
    await check(texts[0] ?? '');
    await check(texts[1] ?? '');
    await check(texts[2] ?? '');
    fake.failNext('msg_sec_check', 'down');
    await check(texts[3] ?? '');
    const raw = logs.raw();
    assert.ok(logs.records().length >= 4);
    for (const secret of [...texts, fake.secret, ...fake.issuedTokens]) assert.ok(!raw.includes(secret), 'a secret or a text reached the logs');
  });
});
