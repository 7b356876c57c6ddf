/**
 * Clients that deliver no chunks (PC and Mac WeChat): the reply reaches them through polling delivery,
 * typed out as it is written, with one turn on the server — over the real transport, a session, and a fake
 * client whose `wx.request` hands every body over whole at its end.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ReplyEvent } from '@wxstream/protocol';
import type { ReplyState } from '../src/reply-reducer.ts';
import { ReplySession, type ReplyView } from '../src/reply-session.ts';
import { openPolledReply, pollReplyEvents } from '../src/polled-reply.ts';
import { openAdaptiveReply, platformPolls } from '../src/reply-delivery.ts';
import { openReplyStream } from '../src/wx-request-transport.ts';
import { FakeBufferingClient, type ScriptedEvent } from './support/fake-buffering-client.ts';
import { FakeClock } from './support/fake-clock.ts';

const SERVER = 'https://chat.example.com';

/** A reply written over 90 s: a start, then a delta every second, then done. */
function ninetySecondReply(): { script: ScriptedEvent[]; text: string } {
  const script: ScriptedEvent[] = [{ at: 500, event: { id: 1, type: 'start', data: { conversationId: 'c-1', messageId: 'set-by-server', model: 'm' } } }];
  let text = '';
  for (let second = 1; second <= 89; second++) {
    const piece = `第${second}句。`;
    text += piece;
    script.push({ at: second * 1000, event: { id: second + 1, type: 'delta', data: { text: piece } } });
  }
  script.push({ at: 90_000, event: { id: 91, type: 'done', data: { finishReason: 'stop' } } as ReplyEvent });
  return { script, text };
}

function setup(options: { platformPolls: boolean }) {
  const clock = new FakeClock(1_000_000);
  const { script, text } = ninetySecondReply();
  const client = new FakeBufferingClient(clock, script);
  const polled = new Set<string>();
  const openPolled = (body: Parameters<typeof openPolledReply>[0]['body'], handlers: Parameters<typeof openPolledReply>[0]['handlers'], onAccepted?: (messageId: string) => void) =>
    openPolledReply({
      request: client.request,
      url: `${SERVER}/api/chat`,
      eventsUrl: (messageId) => `${SERVER}/api/chat/${messageId}/events`,
      token: 't',
      body,
      handlers,
      clock,
      scheduler: clock,
      retryInProgressMs: 1000,
      onAccepted: (accepted) => {
        polled.add(accepted.messageId);
        onAccepted?.(accepted.messageId);
      },
    });
  const shown: { at: number; text: string }[] = [];
  const settled: ReplyState[] = [];
  let page: Partial<ReplyView> = {};
  const session = new ReplySession({
    openStream: (body, handlers) =>
      options.platformPolls
        ? openPolled(body, handlers)
        : openAdaptiveReply(
            {
              openStream: (streamBody, streamHandlers) =>
                openReplyStream({ request: client.request, url: `${SERVER}/api/chat`, token: 't', body: streamBody, handlers: streamHandlers }),
              openPolled,
              scheduler: clock,
            },
            body,
            handlers,
          ),
    resume: {
      open: (messageId, lastEventId, handlers) =>
        pollReplyEvents({ request: client.request, url: `${SERVER}/api/chat/${messageId}/events`, token: 't', lastEventId, handlers, clock, scheduler: clock }),
      random: () => 0.5,
    },
    clock,
    scheduler: clock,
    onRender: (patch) => {
      page = { ...page, ...patch };
      if (patch.text !== undefined) shown.push({ at: clock.now(), text: patch.text });
    },
    onSettled: (state) => settled.push(state),
  });
  return { clock, client, session, shown, settled, text, polled, page: () => page };
}

test('Windows and Mac WeChat poll; phones and DevTools stream', () => {
  assert.equal(platformPolls('windows'), true);
  assert.equal(platformPolls('mac'), true);
  for (const platform of ['ios', 'android', 'ohos', 'devtools', '', undefined]) assert.equal(platformPolls(platform), false, String(platform));
});

test('a client that delivers no chunks and the whole body after 90 s sees the reply typed out through polling', () => {
  const { clock, client, session, shown, settled, text, polled, page } = setup({ platformPolls: false });
  const start = clock.now();
  session.start({ message: '讲个长故事', requestId: 'req-pc-000001' });

  clock.advance(30_000);
  // Before: the idle watchdog ended the reply after 45 s with 连接中断了 and nothing shown. Now the stream's
  // silence switched it to polling after a few seconds, and a third of the reply is on screen by 30 s.
  const at30 = page().text ?? '';
  assert.ok(at30.length > text.length / 5, `30 s in, ${at30.length} of ${text.length} characters are shown`);
  assert.ok(text.startsWith(at30));
  assert.equal(session.state.status, 'streaming');

  clock.advance(65_000);
  clock.runUntilIdle();
  assert.equal(page().status, 'done');
  assert.equal(page().text, text);
  assert.equal(settled.length, 1);
  assert.equal(settled[0]?.text, text);

  // One turn: the switch sent the same requestId again, and the server found the same reply.
  assert.equal(client.turns, 1);
  assert.deepEqual([...polled], ['m-1']);
  const posts = client.requests.filter((request) => request.method === 'POST');
  assert.deepEqual(posts.map((post) => [post.body?.requestId, post.body?.delivery]), [
    ['req-pc-000001', undefined],
    ['req-pc-000001', 'poll'],
  ]);

  // Typed smoothly from the polled batches: the text grows in many small steps, never all at once.
  const growth = shown.filter((entry) => entry.at - start < 90_000);
  assert.ok(growth.length > 100, `${growth.length} renders while the reply was written`);
  for (let n = 1; n < shown.length; n++) {
    const added = Array.from((shown[n] as { text: string }).text).length - Array.from((shown[n - 1] as { text: string }).text).length;
    assert.ok(added <= 40, `render ${n} added ${added} characters at once`);
  }
  assert.equal(clock.pendingTimers, 0);
});

test('on Windows or Mac WeChat the first request polls, so nothing waits for a switch', () => {
  const { clock, client, session, page, text } = setup({ platformPolls: true });
  session.start({ message: '讲个长故事', requestId: 'req-pc-000002' });
  clock.advance(3_000);
  assert.ok((page().text ?? '').length > 0, 'text shows within the first seconds');
  clock.advance(95_000);
  clock.runUntilIdle();
  assert.equal(page().text, text);
  assert.equal(page().status, 'done');
  assert.equal(client.turns, 1);
  assert.equal(client.requests.filter((request) => request.method === 'POST').length, 1);
  // A poll asks for what follows the last event it has: ids only move forward.
  const asked = client.requests.filter((request) => request.method === 'GET').map((request) => Number(new URL(request.url).searchParams.get('lastEventId')));
  for (let n = 1; n < asked.length; n++) assert.ok((asked[n] as number) >= (asked[n - 1] as number));
});

test('stopping a polled reply stops polling at once and leaves no timer', () => {
  const { clock, client, session } = setup({ platformPolls: true });
  session.start({ message: 'hi', requestId: 'req-pc-000003' });
  clock.advance(10_000);
  session.stop();
  const requestsAtStop = client.requests.length;
  clock.runUntilIdle(200_000);
  assert.equal(session.state.status, 'stopped');
  assert.equal(client.requests.length, requestsAtStop, 'no poll after stop');
});

test('a stream that answers within the window is kept: no switch, no second request, even if its model is slow', async () => {
  const { FakeWxRequest } = await import('./support/fake-wx-request.ts');
  const clock = new FakeClock(0);
  const network = new FakeWxRequest();
  const polls: string[] = [];
  const events: string[] = [];
  const handle = openAdaptiveReply(
    {
      openStream: (body, handlers) => openReplyStream({ request: network.request, url: `${SERVER}/api/chat`, body, handlers }),
      openPolled: () => {
        polls.push('poll');
        return { stop() {} };
      },
      scheduler: clock,
    },
    { message: 'hi', requestId: 'req-fast-0001' },
    { onEvent: (event) => events.push(event.type), onError: (error) => events.push(error.code) },
  );
  clock.advance(3000);
  network.last.sendHeaders(200, { 'Content-Type': 'text/event-stream' });
  clock.advance(60_000);
  assert.deepEqual(polls, [], 'headers came in time: this client streams');
  assert.equal(network.tasks.length, 1);
  assert.equal(clock.pendingTimers, 0, 'the switch timer is gone once the stream answered');
  handle.stop();
  assert.equal(network.last.abortCalls, 1);
  assert.deepEqual(events, []);
});

test('without a requestId there is no switch: a repeat could start a second turn', () => {
  const clock = new FakeClock(0);
  let opened = 0;
  openAdaptiveReply(
    {
      openStream: () => {
        opened++;
        return { stop() {} };
      },
      openPolled: () => assert.fail('never polled'),
      scheduler: clock,
    },
    { message: 'hi' },
    { onEvent: () => {}, onError: () => {} },
  );
  clock.advance(60_000);
  assert.equal(opened, 1);
  assert.equal(clock.pendingTimers, 0);
});
