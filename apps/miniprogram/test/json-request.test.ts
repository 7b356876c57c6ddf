import assert from 'node:assert/strict';
import { test } from '@jest/globals';
import { errorBody } from '@wxstream/protocol';
import { requestJson, type WxJsonRequestOptions } from '../miniprogram/lib/json-request.ts';
import { WxstreamError } from '../miniprogram/vendor/wxstream-client.js';

/** A wx.request that records its options and answers asynchronously with `answer`. */
function answering(answer: { statusCode: number; data: unknown } | { failMsg: string }) {
  const seen: WxJsonRequestOptions[] = [];
  const request = (options: WxJsonRequestOptions) => {
    seen.push(options);
    queueMicrotask(() => ('failMsg' in answer ? options.fail({ errMsg: answer.failMsg }) : options.success(answer)));
  };
  return { request, seen };
}

async function rejection(promise: Promise<unknown>): Promise<WxstreamError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof WxstreamError);
    return error;
  }
  assert.fail('expected the promise to reject');
}

test('a body goes out as JSON with its content type; a bodiless request sends neither', async () => {
  const withBody = answering({ statusCode: 200, data: { ok: true } });
  await requestJson(withBody.request, { url: 'https://s.test/a', method: 'PUT', body: { title: 't' }, token: 'tk', timeoutMs: 5 });
  assert.deepEqual(withBody.seen[0]?.data, { title: 't' });
  assert.deepEqual(withBody.seen[0]?.header, { 'Content-Type': 'application/json', Authorization: 'Bearer tk' });
  assert.equal(withBody.seen[0]?.dataType, 'json');
  assert.equal(withBody.seen[0]?.timeout, 5);

  const bodiless = answering({ statusCode: 204, data: '' });
  const answer = await requestJson(bodiless.request, { url: 'https://s.test/a', method: 'DELETE', timeoutMs: 5 });
  assert.deepEqual(answer, { statusCode: 204, data: '' });
  assert.equal('data' in (bodiless.seen[0] ?? {}), false);
  assert.deepEqual(bodiless.seen[0]?.header, {});
});

test("an error body becomes the server's code with the HTTP status", async () => {
  const { request } = answering({ statusCode: 409, data: errorBody('reply_in_progress', 'busy') });
  const error = await rejection(requestJson(request, { url: 'https://s.test/a', method: 'GET', timeoutMs: 5 }));
  assert.equal(error.code, 'reply_in_progress');
  assert.equal(error.status, 409);
  assert.equal(error.message, 'busy');
});

test('a 4xx without an error body is http_error that retrying cannot fix', async () => {
  const { request } = answering({ statusCode: 403, data: 'Forbidden' });
  const error = await rejection(requestJson(request, { url: 'https://s.test/api/x', method: 'GET', timeoutMs: 5 }));
  assert.equal(error.code, 'http_error');
  assert.equal(error.status, 403);
  assert.equal(error.retryable, false);
  assert.equal(error.message, 'GET /api/x answered HTTP 403: Forbidden');
});

test('a wx.request that throws is network_error, not an exception', async () => {
  const request = () => {
    throw new TypeError('request:fail url not in domain list');
  };
  const error = await rejection(requestJson(request, { url: 'https://s.test/a', method: 'GET', timeoutMs: 5 }));
  assert.equal(error.code, 'network_error');
  assert.match(error.message, /url not in domain list/);
});

test('a status without a readable body keeps its meaning: 401 logs in again, 404 is gone, 409 waits, 429 slows down', async () => {
  for (const [statusCode, code] of [
    [401, 'invalid_token'],
    [404, 'not_found'],
    [409, 'reply_in_progress'],
    [413, 'payload_too_large'],
    [429, 'rate_limited'],
    [502, 'http_error'],
  ] as const) {
    for (const data of ['', undefined, '<html>502</html>']) {
      const { request } = answering({ statusCode, data });
      const error = await rejection(requestJson(request, { url: 'https://s.test/api/x', method: 'POST', body: {}, timeoutMs: 5 }));
      assert.equal(error.code, code, `${statusCode} with ${JSON.stringify(data)}`);
      assert.equal(error.status, statusCode);
    }
  }
});
