import assert from 'node:assert/strict';
import { test } from 'node:test';
import { APIConnectionError, APIConnectionTimeoutError, APIError } from 'openai';
import { mapUpstreamError, redactSecrets } from '../src/upstream/upstream-error.ts';

const statusError = (status: number, message = 'provider says no') =>
  APIError.generate(status, { error: { message } }, undefined, new Headers());

test('provider statuses map to the protocol codes', () => {
  const cases: Array<[number, string]> = [
    [400, 'upstream_bad_request'],
    [401, 'upstream_auth_failed'],
    [403, 'upstream_auth_failed'],
    [404, 'upstream_bad_request'],
    [408, 'upstream_timeout'],
    [422, 'upstream_bad_request'],
    [429, 'upstream_rate_limited'],
    [500, 'upstream_unavailable'],
    [502, 'upstream_unavailable'],
    [503, 'upstream_unavailable'],
  ];
  for (const [status, code] of cases) {
    assert.equal(mapUpstreamError(statusError(status), { phase: 'before-stream', secrets: [] }).code, code, String(status));
  }
});

test('connection failures are unavailable before the stream and upstream_error during it', () => {
  const refused = new APIConnectionError({ message: 'Connection error.', cause: new Error('connect ECONNREFUSED') });
  assert.equal(mapUpstreamError(refused, { phase: 'before-stream', secrets: [] }).code, 'upstream_unavailable');
  assert.equal(mapUpstreamError(refused, { phase: 'mid-stream', secrets: [] }).code, 'upstream_error');
  assert.equal(mapUpstreamError(new APIConnectionTimeoutError(), { phase: 'before-stream', secrets: [] }).code, 'upstream_timeout');
  const midStream = mapUpstreamError(new TypeError('terminated'), { phase: 'mid-stream', secrets: [] });
  assert.deepEqual(midStream.toWire(), { code: 'upstream_error', message: 'Model provider: terminated', retryable: true });
});

test('secrets are removed from provider messages', () => {
  const key = 'my-custom-provider-key-123456';
  const message = `Incorrect API key provided: sk-proj-abcdefghijklmnop. Also ${key}; Authorization: Bearer abc.def.ghi; api_key=zzz123`;
  const redacted = redactSecrets(message, [key]);
  for (const secret of ['sk-proj-abcdefghijklmnop', key, 'abc.def.ghi', 'zzz123']) assert.ok(!redacted.includes(secret), secret);
  assert.match(redacted, /Incorrect API key provided/);
});

test('long provider messages are capped', () => {
  assert.ok(redactSecrets('x'.repeat(1000), []).length <= 301);
});
