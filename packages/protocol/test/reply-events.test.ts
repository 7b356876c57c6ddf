import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatSseEvent, parseReplyEvent, type ReplyEvent } from '../src/index.ts';

test('formatSseEvent frames one event as id, event and a single data line', () => {
  const event: ReplyEvent = { id: 3, type: 'delta', data: { text: '第一行\n第二行\r\n"引号"' } };
  assert.equal(formatSseEvent(event), 'id: 3\nevent: delta\ndata: {"text":"第一行\\n第二行\\r\\n\\"引号\\""}\n\n');
});

test('wire bytes of every event type are pinned', () => {
  const events: ReplyEvent[] = [
    { id: 1, type: 'start', data: { conversationId: 'c1', messageId: 'm1', model: 'gpt' } },
    { id: 2, type: 'reasoning', data: { text: '想' } },
    { id: 3, type: 'delta', data: { text: '答' } },
    { id: 4, type: 'usage', data: { promptTokens: 5, completionTokens: 7 } },
    { id: 5, type: 'done', data: { finishReason: 'stop' } },
  ];
  assert.equal(
    events.map(formatSseEvent).join(''),
    'id: 1\nevent: start\ndata: {"conversationId":"c1","messageId":"m1","model":"gpt"}\n\n' +
      'id: 2\nevent: reasoning\ndata: {"text":"想"}\n\n' +
      'id: 3\nevent: delta\ndata: {"text":"答"}\n\n' +
      'id: 4\nevent: usage\ndata: {"promptTokens":5,"completionTokens":7}\n\n' +
      'id: 5\nevent: done\ndata: {"finishReason":"stop"}\n\n',
  );
});

test('parseReplyEvent round-trips what formatSseEvent writes', () => {
  const event: ReplyEvent = { id: 9, type: 'error', data: { code: 'upstream_timeout', message: 'idle', retryable: true } };
  const frame = formatSseEvent(event);
  const data = /data: (.*)\n/.exec(frame)?.[1] ?? '';
  assert.deepEqual(parseReplyEvent({ event: 'error', data, id: '9' }), { ok: true, event });
});

test('parseReplyEvent rejects unknown types, bad ids, non-JSON and wrong shapes without throwing', () => {
  assert.equal(parseReplyEvent({ event: 'tool', data: '{}', id: '1' }).ok, false);
  assert.equal(parseReplyEvent({ event: 'delta', data: '{"text":"a"}', id: '' }).ok, false);
  assert.equal(parseReplyEvent({ event: 'delta', data: '{"text":"a"}', id: '0' }).ok, false);
  assert.equal(parseReplyEvent({ event: 'delta', data: '{"text":', id: '2' }).ok, false);
  assert.equal(parseReplyEvent({ event: 'delta', data: '{"text":1}', id: '2' }).ok, false);
  assert.equal(parseReplyEvent({ event: 'usage', data: '{"promptTokens":-1,"completionTokens":2}', id: '2' }).ok, false);
});

test('an error event with a code this client does not know keeps its message under upstream_error', () => {
  const result = parseReplyEvent({ event: 'error', data: '{"code":"brand_new","message":"x","retryable":false}', id: '4' });
  assert.deepEqual(result, { ok: true, event: { id: 4, type: 'error', data: { code: 'upstream_error', message: 'x', retryable: false } } });
});

test('routePath fills a route template and escapes its parameters', async () => {
  const { routePath, ROUTES } = await import('../src/index.ts');
  assert.equal(routePath(ROUTES.replyEvents, { messageId: 'm 1/2' }), '/api/chat/m%201%2F2/events');
  assert.throws(() => routePath(ROUTES.stopReply, {}), /missing parameter "messageId"/);
});

test('audio events are pinned on the wire and parse back, spoken or skipped', () => {
  const spoken: ReplyEvent = { id: 4, type: 'audio', data: { index: 0, url: '/api/audio/a1?exp=9&sig=s', text: '你好。', format: 'mp3', durationMs: 812 } };
  const skipped: ReplyEvent = { id: 6, type: 'audio', data: { index: 1, skipped: true, code: 'tts_failed' } };
  assert.equal(
    formatSseEvent(spoken) + formatSseEvent(skipped),
    'id: 4\nevent: audio\ndata: {"index":0,"url":"/api/audio/a1?exp=9&sig=s","text":"你好。","format":"mp3","durationMs":812}\n\n' +
      'id: 6\nevent: audio\ndata: {"index":1,"skipped":true,"code":"tts_failed"}\n\n',
  );
  for (const event of [spoken, skipped]) {
    const data = /data: (.*)\n/.exec(formatSseEvent(event))?.[1] ?? '';
    assert.deepEqual(parseReplyEvent({ event: 'audio', data, id: String(event.id) }), { ok: true, event });
  }
});

test('audio events of the wrong shape are refused, unknown skip codes become tts_failed, extra fields are dropped', () => {
  const bad = [
    '{"index":-1,"url":"/a","text":"x","format":"mp3"}',
    '{"index":0,"url":"","text":"x","format":"mp3"}',
    '{"index":0,"url":"/a","text":"x","format":"midi"}',
    '{"index":0,"url":"/a","format":"mp3"}',
    '{"index":0,"url":"/a","text":"x","format":"mp3","durationMs":1.5}',
    '{"index":0,"skipped":true}',
  ];
  for (const data of bad) assert.equal(parseReplyEvent({ event: 'audio', data, id: '3' }).ok, false, data);
  assert.deepEqual(parseReplyEvent({ event: 'audio', data: '{"index":2,"skipped":true,"code":"brand_new"}', id: '3' }), {
    ok: true,
    event: { id: 3, type: 'audio', data: { index: 2, skipped: true, code: 'tts_failed' } },
  });
  assert.deepEqual(parseReplyEvent({ event: 'audio', data: '{"index":0,"url":"/a","text":"x","format":"wav","extra":1}', id: '3' }), {
    ok: true,
    event: { id: 3, type: 'audio', data: { index: 0, url: '/a', text: 'x', format: 'wav' } },
  });
});

test('start may say whether the reply is spoken', () => {
  assert.deepEqual(parseReplyEvent({ event: 'start', data: '{"conversationId":"c","messageId":"m","model":"x","voice":false}', id: '1' }), {
    ok: true,
    event: { id: 1, type: 'start', data: { conversationId: 'c', messageId: 'm', model: 'x', voice: false } },
  });
  assert.equal(parseReplyEvent({ event: 'start', data: '{"conversationId":"c","messageId":"m","model":"x","voice":"yes"}', id: '1' }).ok, false);
});

test('a suggestions event is pinned on the wire and parses back with only its items', () => {
  const event: ReplyEvent = { id: 8, type: 'suggestions', data: { items: ['为什么天是蓝的？', '日落为什么是红的？'] } };
  const frame = formatSseEvent(event);
  assert.equal(frame, 'id: 8\nevent: suggestions\ndata: {"items":["为什么天是蓝的？","日落为什么是红的？"]}\n\n');
  const data = /data: (.*)\n/.exec(frame)?.[1] ?? '';
  assert.deepEqual(parseReplyEvent({ event: 'suggestions', data, id: '8' }), { ok: true, event });
  assert.deepEqual(parseReplyEvent({ event: 'suggestions', data: '{"items":["a"],"extra":1}', id: '3' }), {
    ok: true,
    event: { id: 3, type: 'suggestions', data: { items: ['a'] } },
  });
});

test('suggestions events with no items, more than three, or a blank or non-string item are refused', () => {
  for (const data of ['{}', '{"items":[]}', '{"items":["a","b","c","d"]}', '{"items":["a"," "]}', '{"items":[1]}', '{"items":"a"}']) {
    assert.equal(parseReplyEvent({ event: 'suggestions', data, id: '2' }).ok, false, data);
  }
});
