/**
 * What the owner of a conversation can do to its replies on the server: rate one, make one version of a
 * turn current, share the conversation as a read-only snapshot, and revoke a share.
 *
 * Contract: every call is made as the signed-in user (authed-request.ts: one re-login and resend on a
 * refused token) and rejects only with a `WxstreamError` — the server's code for an error answer
 * (another user's message, conversation or share is `not_found`), `network_error` / `http_error` from
 * the transport, `bad_response` for a 2xx answer of the wrong shape. Ids are escaped into paths.
 */
import { WxstreamError } from '../vendor/wxstream-client.js';
import type { AuthSession } from './auth-session.ts';
import { authedCaller } from './authed-request.ts';
import { readCurrentVersionResponse } from './conversation-shapes.ts';
import { conversationPath } from './conversations-api.ts';
import type { WxJsonRequest } from './json-request.ts';
import type { CreatedShare, CurrentVersionResponse, Rating } from './reply-contract.ts';

export const ACTIONS_TIMEOUT_MS = 15_000;

export interface ReplyActionsApiDeps {
  serverUrl: string;
  auth: AuthSession;
  request: WxJsonRequest;
  timeoutMs?: number;
}

export interface ReplyActionsApi {
  /** `PUT /api/messages/:id/feedback`; `null` takes the rating back. */
  rate(messageId: string, rating: Rating | null, comment?: string): Promise<void>;
  /** `PUT /api/conversations/:id/messages/:messageId/current` → the turn as it now reads. */
  setCurrentVersion(conversationId: string, messageId: string): Promise<CurrentVersionResponse>;
  /** `POST /api/conversations/:id/shares` → the new share's id. */
  share(conversationId: string): Promise<CreatedShare>;
  /** `DELETE /api/shares/:shareId`. */
  revokeShare(shareId: string): Promise<void>;
}

export function feedbackPath(messageId: string): string {
  return `/api/messages/${encodeURIComponent(messageId)}/feedback`;
}

export function currentVersionPath(conversationId: string, messageId: string): string {
  return `${conversationPath(conversationId)}/messages/${encodeURIComponent(messageId)}/current`;
}

export function sharesPath(conversationId: string): string {
  return `${conversationPath(conversationId)}/shares`;
}

export function sharePath(shareId: string): string {
  return `/api/shares/${encodeURIComponent(shareId)}`;
}

export function createReplyActionsApi(deps: ReplyActionsApiDeps): ReplyActionsApi {
  const call = authedCaller({ auth: deps.auth, request: deps.request, serverUrl: deps.serverUrl, timeoutMs: deps.timeoutMs ?? ACTIONS_TIMEOUT_MS });

  return {
    async rate(messageId, rating, comment) {
      await call('PUT', feedbackPath(messageId), comment === undefined ? { rating } : { rating, comment });
    },
    async setCurrentVersion(conversationId, messageId) {
      const answer = await call('PUT', currentVersionPath(conversationId, messageId), {});
      const turn = readCurrentVersionResponse(answer.data);
      if (!turn) throw new WxstreamError('bad_response', `PUT ${currentVersionPath(conversationId, messageId)} does not have the contract's shape`);
      return turn;
    },
    async share(conversationId) {
      const answer = await call('POST', sharesPath(conversationId), {});
      const shareId = (answer.data as { shareId?: unknown } | null)?.shareId;
      if (typeof shareId !== 'string' || shareId === '') {
        throw new WxstreamError('bad_response', `POST ${sharesPath(conversationId)} answered without a shareId`);
      }
      return { shareId };
    },
    async revokeShare(shareId) {
      await call('DELETE', sharePath(shareId));
    },
  };
}
