/**
 * Builds what the server sends for a reply — the event sequence framed by the protocol's own
 * `formatSseEvent` — and cuts its bytes into chunks the way `onChunkReceived` delivers them: at
 * arbitrary byte offsets, so UTF-8 characters and events straddle chunk boundaries.
 */
import { TextEncoder } from 'node:util';
import { formatSseEvent, SSE_HEARTBEAT, type AudioData, type ReplyEvent, type WireError } from '@wxstream/protocol';

export interface ReplyScript {
  text: string;
  reasoning?: string;
  /** How many delta events carry the text (the model's token cadence). */
  deltas?: number;
  /** End with this error event instead of `done`. */
  error?: WireError;
  finishReason?: string;
  /** What `start` says about voice (absent when the request did not ask). */
  voice?: boolean;
  /** Spoken segments, spread evenly among the deltas, each after the text it speaks. */
  audio?: readonly AudioData[];
  /** Ids `start` names (default `c-1` / `r-1`). */
  conversationId?: string;
  messageId?: string;
  /** Follow-up questions: one `suggestions` event right before `done`. */
  suggestions?: readonly string[];
}

/** A spoken segment as the server sends it: a signed, server-relative URL. */
export function audioSegment(index: number, text = `第${index}段`): AudioData {
  return { index, url: `/api/audio/seg-${index}?exp=1767225600&sig=abc${index}`, text, format: 'mp3', durationMs: 1200 };
}

function pieces(text: string, count: number): string[] {
  const chars = Array.from(text);
  const size = Math.max(1, Math.ceil(chars.length / Math.max(1, count)));
  const out: string[] = [];
  for (let i = 0; i < chars.length; i += size) out.push(chars.slice(i, i + size).join(''));
  return out;
}

export function replyEvents(script: ReplyScript): ReplyEvent[] {
  const events: ReplyEvent[] = [];
  let id = 0;
  const start = { conversationId: script.conversationId ?? 'c-1', messageId: script.messageId ?? 'r-1', model: 'test-model' };
  events.push({ id: ++id, type: 'start', data: script.voice === undefined ? start : { ...start, voice: script.voice } });
  for (const text of pieces(script.reasoning ?? '', 8)) events.push({ id: ++id, type: 'reasoning', data: { text } });
  const deltas = pieces(script.text, script.deltas ?? 40);
  const audio = script.audio ?? [];
  let spoken = 0;
  deltas.forEach((text, n) => {
    events.push({ id: ++id, type: 'delta', data: { text } });
    // Segment k follows delta ⌈(k + 1) · deltas / segments⌉ − 1: in order, the last one after the last delta.
    while (spoken < audio.length && n + 1 >= Math.ceil(((spoken + 1) * deltas.length) / audio.length)) {
      events.push({ id: ++id, type: 'audio', data: audio[spoken] as AudioData });
      spoken++;
    }
  });
  if (script.error) {
    events.push({ id: ++id, type: 'error', data: script.error });
  } else {
    events.push({ id: ++id, type: 'usage', data: { promptTokens: 12, completionTokens: 345 } });
    if (script.suggestions) events.push({ id: ++id, type: 'suggestions', data: { items: [...script.suggestions] } });
    events.push({ id: ++id, type: 'done', data: { finishReason: script.finishReason ?? 'stop' } });
  }
  return events;
}

export function sseText(events: readonly ReplyEvent[], options: { heartbeatEvery?: number } = {}): string {
  return events
    .map((event, index) => {
      const beat = options.heartbeatEvery && index > 0 && index % options.heartbeatEvery === 0 ? SSE_HEARTBEAT : '';
      return beat + formatSseEvent(event);
    })
    .join('');
}

/**
 * Node's encoder, imported: the page's environment has none (neither do phones, nor jest's jsdom). Its
 * bytes are copied into this realm's Uint8Array, because under jest the page runs in the jsdom context,
 * where a Node-realm buffer fails the transport's `instanceof ArrayBuffer` — as a real chunk never would.
 */
export function utf8(text: string): Uint8Array {
  return Uint8Array.from(new TextEncoder().encode(text));
}

/** Cuts `bytes` into chunks whose sizes cycle through `sizes` (odd sizes split multi-byte characters). */
export function byteChunks(bytes: Uint8Array, sizes: readonly number[] = [7, 13, 5, 29, 11, 3, 17]): ArrayBuffer[] {
  const chunks: ArrayBuffer[] = [];
  let offset = 0;
  for (let i = 0; offset < bytes.length; i++) {
    const size = sizes[i % sizes.length] ?? 8;
    const slice = bytes.slice(offset, offset + size);
    chunks.push(slice.buffer);
    offset += size;
  }
  return chunks;
}

/** Whether some chunk boundary falls inside a UTF-8 character (a continuation byte starts a chunk). */
export function splitsACharacter(chunks: readonly ArrayBuffer[]): boolean {
  return chunks.some((chunk, index) => index > 0 && chunk.byteLength > 0 && ((new Uint8Array(chunk)[0] ?? 0) & 0xc0) === 0x80);
}
