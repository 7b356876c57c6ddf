/**
 * A realistic wxstream reply — written exactly as the server writes it, with `formatSseEvent` and
 * `SSE_HEARTBEAT` from @wxstream/protocol — parsed back into the same typed events however it is cut:
 * as text at every index and in random thirds, and as UTF-8 bytes at every byte through
 * Utf8StreamDecoder, the way wx.request chunks arrive.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatSseEvent, parseReplyEvent, SSE_HEARTBEAT, type ReplyEvent } from '@wxstream/protocol';
import { SseParser, type SseMessage } from '../src/sse-parser.ts';
import { Utf8StreamDecoder } from '../src/utf8-stream-decoder.ts';
import { createSeededRandom, testSeed } from './support/seeded-random.ts';
import { parsePieces, randomSplitInThree, splitsInTwo } from './support/sse-collect.ts';

const REPLY: ReplyEvent[] = [
  { id: 1, type: 'start', data: { conversationId: 'c-42', messageId: 'm-7', model: 'qwen-plus' } },
  { id: 2, type: 'reasoning', data: { text: '用户问的是流式输出，' } },
  { id: 3, type: 'reasoning', data: { text: '先解释原理。' } },
  { id: 4, type: 'delta', data: { text: '## 流式输出 🚀\n\n' } },
  { id: 5, type: 'delta', data: { text: '小程序用 `wx.request` 的 **enableChunked**，' } },
  { id: 6, type: 'delta', data: { text: '每块数据可能切断一个字符：比如“你”=E4 BD A0。\r\n' } },
  { id: 7, type: 'delta', data: { text: '```js\nconst s = "a\\\\b";\n```\n' } },
  { id: 8, type: 'delta', data: { text: '👨‍👩‍👧 完成 ✅ data: not-a-field\n\nid: 99' } },
  { id: 9, type: 'usage', data: { promptTokens: 31, completionTokens: 58 } },
  { id: 10, type: 'done', data: { finishReason: 'stop' } },
];

const FAILED_REPLY: ReplyEvent[] = [
  { id: 1, type: 'start', data: { conversationId: 'c-1', messageId: 'm-1', model: 'm' } },
  { id: 2, type: 'delta', data: { text: '半句话' } },
  { id: 3, type: 'error', data: { code: 'upstream_timeout', message: 'model stalled for 30s', retryable: true } },
];

/** The reply as the server streams it: a heartbeat before the first event and after every third. */
function serverStream(events: readonly ReplyEvent[]): string {
  let text = SSE_HEARTBEAT;
  events.forEach((event, index) => {
    text += formatSseEvent(event);
    if (index % 3 === 2) text += SSE_HEARTBEAT;
  });
  return text;
}

function toReplyEvents(messages: readonly SseMessage[]): ReplyEvent[] {
  return messages.map((message) => {
    const parsed = parseReplyEvent(message);
    if (!parsed.ok) assert.fail(`a message did not parse as a reply event: ${parsed.reason}`);
    return parsed.event;
  });
}

const heartbeats = (stream: string): number => stream.split(SSE_HEARTBEAT).length - 1;

describe('a wxstream reply round trip', () => {
  for (const [name, events] of [
    ['a completed reply', REPLY],
    ['a reply that ends in an error event', FAILED_REPLY],
  ] as const) {
    test(`parser turns ${name} back into the same events at every split point, with every heartbeat seen`, () => {
      const stream = serverStream(events);
      const pings = Array.from({ length: heartbeats(stream) }, () => 'ping');
      for (const pieces of splitsInTwo(stream)) {
        const record = parsePieces(pieces);
        assert.deepEqual(toReplyEvents(record.messages), events, `split at ${pieces[0]!.length}`);
        assert.deepEqual(record.comments, pings);
      }
    });
  }

  test('parser turns a reply cut into three random pieces back into the same events', () => {
    const seed = testSeed(0x55e_0002);
    const random = createSeededRandom(seed);
    const stream = serverStream(REPLY);
    for (let round = 0; round < 500; round++) {
      const pieces = randomSplitInThree(stream, random);
      assert.deepEqual(toReplyEvents(parsePieces(pieces).messages), REPLY, `seed ${seed}, round ${round}`);
    }
  });

  test('decoder and parser together rebuild the reply from its UTF-8 bytes cut at every byte', () => {
    const bytes = new TextEncoder().encode(serverStream(REPLY));
    for (let cut = 0; cut <= bytes.length; cut++) {
      const messages: SseMessage[] = [];
      const decoder = new Utf8StreamDecoder();
      const parser = new SseParser((message) => messages.push(message));
      for (const chunk of [bytes.subarray(0, cut), bytes.subarray(cut)]) parser.feed(decoder.decode(chunk, { stream: true }));
      parser.feed(decoder.decode());
      parser.end();
      assert.deepEqual(toReplyEvents(messages), REPLY, `byte split at ${cut}`);
    }
  });

  test('decoder and parser together rebuild the reply from random small chunks, as onChunkReceived delivers them', () => {
    const seed = testSeed(0x55e_0003);
    const random = createSeededRandom(seed);
    const bytes = new TextEncoder().encode(serverStream(REPLY));
    for (let round = 0; round < 200; round++) {
      const messages: SseMessage[] = [];
      const decoder = new Utf8StreamDecoder();
      const parser = new SseParser((message) => messages.push(message));
      for (let offset = 0; offset < bytes.length; ) {
        const size = random.range(1, 16);
        parser.feed(decoder.decode(bytes.subarray(offset, offset + size), { stream: true }));
        offset += size;
      }
      parser.feed(decoder.decode());
      parser.end();
      assert.deepEqual(toReplyEvents(messages), REPLY, `seed ${seed}, round ${round}`);
    }
  });

  test('parser drops a reply cut off mid-event, so no half event reaches the client', () => {
    const stream = serverStream(REPLY);
    const cut = stream.lastIndexOf('event: done');
    const { messages } = parsePieces([stream.slice(0, cut + 'event: done\ndata: {"fin'.length)]);
    assert.deepEqual(toReplyEvents(messages), REPLY.slice(0, -1));
  });
});
