import assert from 'node:assert/strict';
import { setImmediate as nextMacrotask } from 'node:timers/promises';
import { test } from '@jest/globals';
import type { AuthSession } from '../miniprogram/lib/auth-session.ts';
import { openAuthedStream } from '../miniprogram/lib/authed-stream.ts';
import {
  WxstreamError,
  type ChatRequest,
  type ReplyEvent,
  type ReplyStreamHandlers,
} from '../miniprogram/vendor/wxstream-client.js';

/** An auth session handing out token-1, token-2 … and counting invalidations; or failing with `failWith`. */
function fakeAuth(failWith?: WxstreamError) {
  let issued = 0;
  let current: string | undefined;
  const auth: AuthSession & { invalidations: number } = {
    invalidations: 0,
    token() {
      if (failWith) return Promise.reject(failWith);
      current ??= `token-${++issued}`;
      return Promise.resolve(current);
    },
    invalidate() {
      auth.invalidations += 1;
      current = undefined;
    },
  };
  return auth;
}

interface OpenedStream {
  token: string;
  body: ChatRequest;
  handlers: ReplyStreamHandlers;
  stopped: boolean;
}

function recorder() {
  const events: ReplyEvent[] = [];
  const errors: WxstreamError[] = [];
  let heartbeats = 0;
  const handlers: ReplyStreamHandlers = {
    onEvent: (event) => events.push(event),
    onError: (error) => errors.push(error),
    onHeartbeat: () => {
      heartbeats += 1;
    },
  };
  return { handlers, events, errors, heartbeats: () => heartbeats };
}

function opener() {
  const opened: OpenedStream[] = [];
  const open = (token: string, body: ChatRequest, handlers: ReplyStreamHandlers) => {
    const stream: OpenedStream = { token, body, handlers, stopped: false };
    opened.push(stream);
    return {
      stop() {
        stream.stopped = true;
      },
    };
  };
  return { opened, open };
}

// node:timers' setImmediate: jest's jsdom environment has no global one.
const flush = () => nextMacrotask();
const start: ReplyEvent = { id: 1, type: 'start', data: { conversationId: 'c', messageId: 'm', model: 'x' } };

test('the stream opens with the current token and passes events and heartbeats through', async () => {
  const { opened, open } = opener();
  const r = recorder();
  openAuthedStream({ auth: fakeAuth(), open }, { message: '你好' }, r.handlers);
  await flush();
  assert.equal(opened.length, 1);
  assert.equal(opened[0]?.token, 'token-1');
  opened[0]?.handlers.onEvent(start);
  opened[0]?.handlers.onHeartbeat?.();
  assert.deepEqual(r.events, [start]);
  assert.equal(r.heartbeats(), 1);
});

for (const code of ['token_expired', 'invalid_token'] as const) {
  test(`a ${code} refusal logs in again and sends the same request once more`, async () => {
    const auth = fakeAuth();
    const { opened, open } = opener();
    const r = recorder();
    openAuthedStream({ auth, open }, { message: '再来一次', conversationId: 'c-9' }, r.handlers);
    await flush();
    opened[0]?.handlers.onError(new WxstreamError(code));
    await flush();
    assert.equal(auth.invalidations, 1);
    assert.equal(opened.length, 2);
    assert.equal(opened[1]?.token, 'token-2');
    assert.deepEqual(opened[1]?.body, { message: '再来一次', conversationId: 'c-9' });
    assert.deepEqual(r.errors, []);
  });
}

test('a second refusal is reported instead of retried again', async () => {
  const auth = fakeAuth();
  const { opened, open } = opener();
  const r = recorder();
  openAuthedStream({ auth, open }, { message: 'x' }, r.handlers);
  await flush();
  opened[0]?.handlers.onError(new WxstreamError('token_expired'));
  await flush();
  opened[1]?.handlers.onError(new WxstreamError('token_expired'));
  await flush();
  assert.equal(opened.length, 2);
  assert.deepEqual(
    r.errors.map((e) => e.code),
    ['token_expired'],
  );
});

test('other errors are reported as they are, without logging in again', async () => {
  const auth = fakeAuth();
  const { opened, open } = opener();
  const r = recorder();
  openAuthedStream({ auth, open }, { message: 'x' }, r.handlers);
  await flush();
  opened[0]?.handlers.onError(new WxstreamError('rate_limited'));
  await flush();
  assert.equal(auth.invalidations, 0);
  assert.deepEqual(
    r.errors.map((e) => e.code),
    ['rate_limited'],
  );
});

test('a failed login reaches onError as its WxstreamError', async () => {
  const { opened, open } = opener();
  const r = recorder();
  openAuthedStream({ auth: fakeAuth(new WxstreamError('login_failed', 'wx.login failed')), open }, { message: 'x' }, r.handlers);
  await flush();
  assert.equal(opened.length, 0);
  assert.deepEqual(
    r.errors.map((e) => e.code),
    ['login_failed'],
  );
});

test('stop before the token arrives makes no request at all', async () => {
  const { opened, open } = opener();
  const r = recorder();
  const handle = openAuthedStream({ auth: fakeAuth(), open }, { message: 'x' }, r.handlers);
  handle.stop();
  await flush();
  assert.equal(opened.length, 0);
  assert.deepEqual(r.errors, []);
});

test('stop during the stream stops it and silences anything late', async () => {
  const { opened, open } = opener();
  const r = recorder();
  const handle = openAuthedStream({ auth: fakeAuth(), open }, { message: 'x' }, r.handlers);
  await flush();
  handle.stop();
  assert.equal(opened[0]?.stopped, true);
  opened[0]?.handlers.onEvent(start);
  opened[0]?.handlers.onError(new WxstreamError('network_error'));
  assert.deepEqual(r.events, []);
  assert.deepEqual(r.errors, []);
});
