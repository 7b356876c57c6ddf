/**
 * What a chat request sent, as a test compares it: the JSON body without its `requestId` — which is
 * random per message and checked here to be a valid one — so tests state the message, conversation and
 * voice they expect, and `requestIdOf` gives the id when a test is about it.
 */
import assert from 'node:assert/strict';
import { isValidRequestId } from '@wxstream/protocol';

interface SentRequest {
  options: { data?: unknown };
}

export function requestIdOf(task: SentRequest): string {
  const body = JSON.parse(String(task.options.data)) as { requestId?: unknown };
  assert.ok(isValidRequestId(body.requestId), `every chat request names itself with a valid requestId, got ${String(body.requestId)}`);
  return body.requestId;
}

/** The body of a chat request without its (checked) `requestId`. */
export function sentBody(task: SentRequest): Record<string, unknown> {
  requestIdOf(task);
  const { requestId: _requestId, ...rest } = JSON.parse(String(task.options.data)) as Record<string, unknown>;
  return rest;
}
