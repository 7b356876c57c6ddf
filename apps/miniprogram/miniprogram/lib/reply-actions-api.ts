/**
 * What the owner of a conversation can do to its replies on the server: rate one, make one version of a
 * turn current, share the conversation as a read-only snapshot, and revoke a share.
 *
 * Contract: every call is made as the signed-in user (authed-request.ts: one re-login and resend on a
 * refused token) and rejects only with a `WxstreamError` — the server's code for an error answer
 * (another user's message, conversation or share is `not_found`), `network_error` / `http_error` from
 * the transport, `bad_response` for a 2xx answer of the wrong shape. Ids are escaped into paths.
 */
import {
  routePath,
  ROUTES,
  WxstreamError,
  type CurrentVersionResponse,
  type FeedbackRating,
  type FeedbackRequest,
  type ShareCreated,
} from '../vendor/wxstream-client.js';
import type { AuthSession } from './auth-session.ts';
import { authedCaller } from './authed-request.ts';
import { readCurrentVersionResponse } from './conversation-shapes.ts';
import type { WxJsonRequest } from './json-request.ts';

export const ACTIONS_TIMEOUT_MS = 15_000;

export interface ReplyActionsApiDeps {
  serverUrl: string;
  auth: AuthSession;
  request: WxJsonRequest;
  timeoutMs?: number;
}

export interface ReplyActionsApi {
  /** `PUT /api/messages/:id/feedback`; `null` takes the rating back. */
  rate(messageId: string, rating: FeedbackRating | null, comment?: string): Promise<void>;
  /** `PUT /api/conversations/:id/messages/:messageId/current` → the turn as it now reads. */
  setCurrentVersion(conversationId: string, messageId: string): Promise<CurrentVersionResponse>;
  /** `POST /api/conversations/:id/shares` → the new share's id. */
  share(conversationId: string): Promise<Pick<ShareCreated, 'shareId'>>;
  /** `DELETE /api/shares/:shareId`. */
  revokeShare(shareId: string): Promise<void>;
}

export function feedbackPath(messageId: string): string {
  return routePath(ROUTES.feedback, { messageId });
}

export function currentVersionPath(conversationId: string, messageId: string): string {
  return routePath(ROUTES.currentVersion, { id: conversationId, messageId });
}

export function sharesPath(conversationId: string): string {
  return routePath(ROUTES.conversationShares, { id: conversationId });
}

export function sharePath(shareId: string): string {
  return routePath(ROUTES.share, { shareId });
}

export function createReplyActionsApi(deps: ReplyActionsApiDeps): ReplyActionsApi {
  const call = authedCaller({ auth: deps.auth, request: deps.request, serverUrl: deps.serverUrl, timeoutMs: deps.timeoutMs ?? ACTIONS_TIMEOUT_MS });

  return {
    async rate(messageId, rating, comment) {
      const body: FeedbackRequest = comment === undefined ? { rating } : { rating, comment };
      await call('PUT', feedbackPath(messageId), body);
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
