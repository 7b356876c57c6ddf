/**
 * A WeChat client that delivers no chunks (PC and Mac WeChat), talking to a small reply server, all on a
 * fake clock.
 *
 * Contract: `request` is a `wx.request` whose tasks never fire `onHeadersReceived` or `onChunkReceived`:
 * each response reaches `success` whole, when it ends. Behind it a reply server answers as ours does:
 * - `POST /api/chat` creates one reply per `requestId` (a repeat of the same id finds the same reply) whose
 *   events are produced at the times the script says; with `"delivery":"poll"` it answers
 *   `202 {messageId, conversationId}` at once, otherwise the streamed body, which — this client being what
 *   it is — arrives only when the reply has ended.
 * - `GET /api/chat/:id/events?lastEventId=N&poll=1` answers every event after N that exists, waiting up to
 *   `pollWaitMs` for the first one, as one whole body.
 * `abort()` ends a task with `request:fail abort` (synchronously, like the other fake); a task the client
 * abandoned simply completes later, unheard.
 */
import { LAST_EVENT_ID_QUERY, POLL_QUERY, formatSseEvent, isTerminalEvent, type ChatRequest, type ReplyEvent } from '@wxstream/protocol';
import type { WxRequestLike, WxRequestOptionsLike, WxRequestTaskLike } from '../../src/wx-request-transport.ts';
import type { FakeClock } from './fake-clock.ts';

export interface ScriptedEvent {
  /** Milliseconds after the reply was created. */
  at: number;
  event: ReplyEvent;
}

interface ServerReply {
  readonly messageId: string;
  readonly createdAt: number;
  readonly script: readonly ScriptedEvent[];
}

export class FakeBufferingClient {
  readonly requests: { method: string; url: string; body?: ChatRequest }[] = [];
  readonly replies = new Map<string, ServerReply>();
  private readonly clock: FakeClock;
  private readonly script: readonly ScriptedEvent[];
  private readonly pollWaitMs: number;

  constructor(clock: FakeClock, script: readonly ScriptedEvent[], options: { pollWaitMs?: number } = {}) {
    this.clock = clock;
    this.script = script;
    this.pollWaitMs = options.pollWaitMs ?? 10_000;
  }

  /** The chat POSTs that created a reply (a repeat of a requestId creates none). */
  get turns(): number {
    return this.replies.size;
  }

  readonly request: WxRequestLike = (options) => {
    const task = new BufferingTask(options);
    const body = options.data === undefined ? undefined : (JSON.parse(options.data) as ChatRequest);
    this.requests.push(body === undefined ? { method: options.method, url: options.url } : { method: options.method, url: options.url, body });
    // WeChat answers asynchronously, never inside wx.request itself.
    this.clock.setTimeout(() => this.answer(task, body), 0);
    return task;
  };

  private answer(task: BufferingTask, body: ChatRequest | undefined): void {
    const url = new URL(task.options.url);
    if (task.options.method === 'POST' && url.pathname === '/api/chat' && body !== undefined) {
      const reply = this.replyFor(body);
      if (body.delivery === 'poll') {
        task.respond(202, JSON.stringify({ messageId: reply.messageId, conversationId: 'c-1' }), 'application/json');
        return;
      }
      const end = reply.createdAt + (reply.script[reply.script.length - 1]?.at ?? 0);
      this.clock.setTimeout(() => task.respond(200, this.framesAfter(reply, 0), 'text/event-stream'), Math.max(0, end - this.clock.now()));
      return;
    }
    const events = /^\/api\/chat\/([^/]+)\/events$/.exec(url.pathname);
    const reply = events?.[1] === undefined ? undefined : [...this.replies.values()].find((r) => r.messageId === events[1]);
    if (task.options.method === 'GET' && reply !== undefined && url.searchParams.get(POLL_QUERY) === '1') {
      const after = Number(url.searchParams.get(LAST_EVENT_ID_QUERY) ?? '0');
      this.poll(task, reply, after, this.clock.now() + this.pollWaitMs);
      return;
    }
    task.respond(404, '', 'text/plain');
  }

  private poll(task: BufferingTask, reply: ServerReply, after: number, deadline: number): void {
    const frames = this.framesAfter(reply, after);
    if (frames !== '' || this.clock.now() >= deadline) {
      task.respond(200, frames, 'text/event-stream');
      return;
    }
    const next = reply.script.find((scripted) => scripted.event.id > after);
    const due = next === undefined ? deadline : Math.min(deadline, reply.createdAt + next.at);
    this.clock.setTimeout(() => this.poll(task, reply, after, deadline), Math.max(0, due - this.clock.now()));
  }

  private replyFor(body: ChatRequest): ServerReply {
    const key = body.requestId ?? `anonymous-${this.requests.length}`;
    let reply = this.replies.get(key);
    if (reply === undefined) {
      const messageId = `m-${this.replies.size + 1}`;
      const script = this.script.map((scripted) =>
        scripted.event.type === 'start'
          ? { at: scripted.at, event: { ...scripted.event, data: { ...scripted.event.data, messageId } } }
          : scripted,
      );
      reply = { messageId, createdAt: this.clock.now(), script };
      this.replies.set(key, reply);
    }
    return reply;
  }

  /** The frames of every event produced by now after id `after`, up to the terminal one. */
  private framesAfter(reply: ServerReply, after: number): string {
    const now = this.clock.now();
    let frames = '';
    for (const { at, event } of reply.script) {
      if (reply.createdAt + at > now) break;
      if (event.id > after) frames += formatSseEvent(event);
      if (isTerminalEvent(event)) break;
    }
    return frames;
  }
}

class BufferingTask implements WxRequestTaskLike {
  readonly options: WxRequestOptionsLike;
  private finished = false;

  constructor(options: WxRequestOptionsLike) {
    this.options = options;
  }

  respond(statusCode: number, body: string, contentType: string): void {
    if (this.finished) return;
    this.finished = true;
    const bytes = new TextEncoder().encode(body);
    const data = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    this.options.success({ statusCode, header: { 'Content-Type': contentType, 'Content-Length': String(bytes.byteLength) }, data });
  }

  abort(): void {
    if (this.finished) return;
    this.finished = true;
    this.options.fail({ errMsg: 'request:fail abort' });
  }

  // This client never reports headers or chunks.
  onHeadersReceived(): void {}
  offHeadersReceived(): void {}
  onChunkReceived(): void {}
  offChunkReceived(): void {}
}
