/**
 * Shorthands for the conversation API in tests, over the raw client of `http-client.ts`.
 *
 * Contract: `authed` builds request options with a bearer token (and a JSON body when given);
 * `getConversation` / `listConversations` assert a 200 and return the typed body; `startOf` reads
 * the `start` event of a reply body; `waitForStoredReply` polls a conversation until its last
 * message is an assistant reply that is no longer `streaming` (or matches `until`), for the writes
 * that happen after a client went away. `sendChat` posts a chat and, like a client, asks again on a
 * 409 `reply_in_progress` (the previous reply's lock is released just after its `done` is logged, so
 * a turn sent the instant the last one ended can meet it).
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseErrorBody, type ConversationDetail, type ConversationPage, type StartData, type StoredMessage } from '@wxstream/protocol';
import { chatRequest, send, type HttpAnswer, type SendOptions } from './http-client.ts';
import { PATIENCE_MS } from './eventually.ts';
import { parseReplyBody } from './reply-stream.ts';

export function authed(token: string, method = 'GET', body?: object | string | Buffer): SendOptions {
  const headers: Record<string, string> = { Authorization: `Bearer ${token}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  return { method, headers, ...(body === undefined ? {} : { body }) };
}

export async function getConversation(url: string, token: string, id: string): Promise<ConversationDetail> {
  const answer = await send(url, `/api/conversations/${id}`, authed(token));
  assert.equal(answer.status, 200, answer.text);
  return answer.json() as ConversationDetail;
}

export async function listConversations(url: string, token: string, query = ''): Promise<ConversationPage> {
  const answer = await send(url, `/api/conversations${query}`, authed(token));
  assert.equal(answer.status, 200, answer.text);
  return answer.json() as ConversationPage;
}

export function startOf(body: string): StartData {
  const first = parseReplyBody(body).events[0];
  assert.equal(first?.type, 'start', `a reply starts with start: ${body.slice(0, 200)}`);
  return first.type === 'start' ? first.data : { conversationId: '', messageId: '', model: '' };
}

export async function waitForStoredReply(
  url: string,
  token: string,
  conversationId: string,
  until: (message: StoredMessage) => boolean = (message) => message.status !== 'streaming',
  timeoutMs = PATIENCE_MS,
): Promise<StoredMessage> {
  const deadline = Date.now() + timeoutMs;
  let last: StoredMessage | undefined;
  for (;;) {
    const detail = await getConversation(url, token, conversationId);
    last = detail.messages.at(-1);
    if (last?.role === 'assistant' && until(last)) return last;
    if (Date.now() > deadline) assert.fail(`stored reply never matched; last: ${JSON.stringify(last)}`);
    await sleep(20);
  }
}

export async function sendChat(url: string, token: string, body: object): Promise<HttpAnswer> {
  let answer = await send(url, '/api/chat', chatRequest(token, body));
  for (let attempt = 0; attempt < 50 && answer.status === 409 && parseErrorBody(answer.json())?.code === 'reply_in_progress'; attempt += 1) {
    await sleep(10);
    answer = await send(url, '/api/chat', chatRequest(token, body));
  }
  return answer;
}
