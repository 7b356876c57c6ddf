import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ERROR_CODES, ERROR_CODE_LIST, WxstreamError, errorBody, parseErrorBody, userMessageFor } from '../src/index.ts';

test('every server error code has an HTTP error status and a Chinese user message', () => {
  for (const code of ERROR_CODE_LIST) {
    const spec = ERROR_CODES[code];
    assert.match(spec.userMessage, /[\u4e00-\u9fff]/, code);
    assert.match(code, /^[a-z]+(_[a-z]+)*$/, 'codes are stable snake_case identifiers');
    if (spec.origin === 'server') assert.ok(spec.status >= 400 && spec.status < 600, code);
  }
});

test('the error body parses back to its code, message and retryable flag', () => {
  const body = errorBody('rate_limited', 'slow down');
  assert.deepEqual(parseErrorBody(JSON.parse(JSON.stringify(body))), { code: 'rate_limited', message: 'slow down', retryable: true });
  assert.equal(parseErrorBody({ error: { code: 'nope', message: 'x' } }), undefined);
  assert.equal(parseErrorBody('<html>502</html>'), undefined);
});

test('WxstreamError carries the code, status and retryability of its spec', () => {
  const error = new WxstreamError('upstream_timeout', 'no chunk for 60000 ms');
  assert.equal(error.status, 504);
  assert.equal(error.retryable, true);
  assert.deepEqual(error.toWire(), { code: 'upstream_timeout', message: 'no chunk for 60000 ms', retryable: true });
  assert.ok(error instanceof Error);
});

test('unknown codes get a generic user message instead of nothing', () => {
  assert.equal(userMessageFor('token_expired'), ERROR_CODES.token_expired.userMessage);
  assert.match(userMessageFor('from_the_future'), /重试/);
});
