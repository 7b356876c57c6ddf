/**
 * What the conversation, feedback and share routes read from a request the same way: the signed-in
 * user and the ids in the path.
 *
 * Contract: `userOf` throws a programming error when a route forgot `requireAuth`. An id that cannot be
 * one of ours (not 1–64 of `A-Za-z0-9_-`) is 404 `not_found` before any lookup — the same answer an
 * unknown or another user's id gets, so the API never reveals which ids exist.
 */
import { WxstreamError } from '@wxstream/protocol';
import type { AppState, AuthenticatedUser } from '../app-state.ts';
import { CONVERSATION_ID_PATTERN } from '../chat/chat-request.ts';

export function userOf(state: AppState): AuthenticatedUser {
  if (state.user === undefined) throw new Error('this route must run behind requireAuth');
  return state.user;
}

/** The path parameter `name` as an id, or 404 `not_found` naming `what`. */
export function idParam(params: Record<string, string | undefined>, name: string, what: string): string {
  const id = params[name];
  if (id === undefined || !CONVERSATION_ID_PATTERN.test(id)) throw new WxstreamError('not_found', `No such ${what}`);
  return id;
}
