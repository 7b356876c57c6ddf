/**
 * Tells the server to stop the reply a chat request started, by its `requestId`:
 * `POST /api/chat/requests/:requestId/stop` as the signed-in user.
 *
 * Contract: resolves with the server's answer — `stopping` (the model was writing and is being stopped),
 * `ended` (it had already finished) or `pending` (the request has not reached the server yet: the stop is
 * remembered and the reply ends `stopped` when it would have started) — and rejects with a
 * `WxstreamError` like every authed request (re-login once on a refused token). Unlike the stop by
 * message id, it works before the `start` event named the reply, so 停止 pressed at once is not lost.
 * The server answers once the reply has really ended (or after a short bound), so a message sent after
 * this resolves is not refused as `reply_in_progress`.
 */
import { routePath, ROUTES, WxstreamError, type StopRequestResponse } from '../vendor/wxstream-client.js';
import { requestAuthedJson, type AuthedRequestDeps } from './authed-request.ts';

export interface StopRequestDeps extends AuthedRequestDeps {
  serverUrl: string;
}

const STOP_TIMEOUT_MS = 10_000;
const STATUSES: readonly string[] = ['stopping', 'ended', 'pending'];

export async function stopRequestOnServer(deps: StopRequestDeps, requestId: string): Promise<StopRequestResponse['status']> {
  const path = routePath(ROUTES.stopRequest, { requestId });
  const { data } = await requestAuthedJson(deps, { url: deps.serverUrl + path, method: 'POST', body: {}, timeoutMs: STOP_TIMEOUT_MS });
  const status = (data as { status?: unknown } | null)?.status;
  if (typeof status !== 'string' || !STATUSES.includes(status)) {
    throw new WxstreamError('bad_response', `POST ${path} answered ${JSON.stringify(data)}`);
  }
  return status as StopRequestResponse['status'];
}
