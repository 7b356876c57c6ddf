/**
 * The client core's polling delivery against the real server, through a `wx.request` built on node:http
 * that hands every body over whole at its end (as Windows and Mac WeChat do): the reply arrives complete,
 * with the ids and text the server stored, in one turn — whether the client polls from the start or
 * switches to polling after a stream that showed nothing.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openAdaptiveReply, openPolledReply, openReplyStream, type ReplyStreamHandlers, type Scheduler } from '@wxstream/client';
import { isTerminalEvent, routePath, ROUTES, type ChatRequest, type ReplyEvent, type WxstreamError } from '@wxstream/protocol';
import { getConversation, waitForStoredReply } from './support/api-client.ts';
import { login } from './support/http-client.ts';
import { createNodeWxRequest } from './support/node-wx-request.ts';
import { startStack } from './support/test-server.ts';

const CONTENT = Array.from({ length: 30 }, (_, index) => `第${index}句，含😀与“引号”。`);

const timers: Scheduler = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};
const clock = { now: () => Date.now() };

/** Runs one reply to its end and collects what reached the handlers. */
function run(open: (handlers: ReplyStreamHandlers) => void): Promise<{ events: ReplyEvent[]; errors: WxstreamError[] }> {
  return new Promise((resolve) => {
    const events: ReplyEvent[] = [];
    const errors: WxstreamError[] = [];
    open({
      onEvent(event) {
        events.push(event);
        if (isTerminalEvent(event)) resolve({ events, errors });
      },
      onError(error) {
        errors.push(error);
        resolve({ events, errors });
      },
    });
  });
}

function polled(url: string, token: string, request: ReturnType<typeof createNodeWxRequest>, body: ChatRequest, handlers: ReplyStreamHandlers, repeat: boolean) {
  return openPolledReply({
    request,
    url: `${url}${ROUTES.chat}`,
    eventsUrl: (messageId) => url + routePath(ROUTES.replyEvents, { messageId }),
    token,
    body,
    handlers,
    clock,
    scheduler: timers,
    minIntervalMs: 50,
    ...(repeat ? { retryInProgressMs: 100 } : {}),
  });
}

function assertWhole(events: readonly ReplyEvent[], errors: readonly WxstreamError[]): void {
  assert.deepEqual(errors, []);
  assert.deepEqual(events.map((event) => event.id), events.map((_, index) => index + 1), 'ids 1, 2, 3 … without gap or repeat');
  assert.equal(events.filter(isTerminalEvent).length, 1);
  assert.equal(events.at(-1)?.type, 'done');
  const text = events.flatMap((event) => (event.type === 'delta' ? [event.data.text] : [])).join('');
  assert.equal(text, CONTENT.join(''));
}

test('a client that gets whole bodies only polls the reply from the real server, complete and in one turn', async () => {
  const stack = await startStack({ scenario: { content: CONTENT, chunkDelayMs: 15 }, env: { HEARTBEAT_INTERVAL_MS: '3600000' } });
  try {
    const token = await login(stack.url, 'pc-wechat');
    const request = createNodeWxRequest({ ignoreEnableChunked: true });
    const { events, errors } = await run((handlers) => polled(stack.url, token, request, { message: '讲个故事', requestId: 'pc-e2e-0000001' }, handlers, false));
    assertWhole(events, errors);
    const start = events[0];
    assert.equal(start?.type, 'start');
    const conversationId = start?.type === 'start' ? start.data.conversationId : '';
    assert.equal((await waitForStoredReply(stack.url, token, conversationId)).text, CONTENT.join(''));
    assert.equal((await getConversation(stack.url, token, conversationId)).messages.length, 2);
  } finally {
    await stack.close();
  }
});

test('a client that hears nothing of its stream switches to polling the same request: the reply arrives, one turn, one model call', async () => {
  const stack = await startStack({ scenario: { content: CONTENT, chunkDelayMs: 15 }, env: { HEARTBEAT_INTERVAL_MS: '3600000' } });
  try {
    const token = await login(stack.url, 'silent-client');
    const request = createNodeWxRequest({ ignoreEnableChunked: true, silentUntilEnd: true });
    const body: ChatRequest = { message: '讲个故事', requestId: 'silent-e2e-00001' };
    const { events, errors } = await run((handlers) =>
      openAdaptiveReply(
        {
          openStream: (streamBody, streamHandlers) => openReplyStream({ request, url: `${stack.url}${ROUTES.chat}`, token, body: streamBody, handlers: streamHandlers }),
          openPolled: (pollBody, pollHandlers) => polled(stack.url, token, request, pollBody, pollHandlers, true),
          scheduler: timers,
          fallbackAfterMs: 100,
        },
        body,
        handlers,
      ),
    );
    assertWhole(events, errors);
    const start = events[0];
    const conversationId = start?.type === 'start' ? start.data.conversationId : '';
    await waitForStoredReply(stack.url, token, conversationId);
    assert.equal((await getConversation(stack.url, token, conversationId)).messages.length, 2, 'one turn');
    assert.equal(stack.emulator.requests.length, 1, 'one model call');
  } finally {
    await stack.close();
  }
});
