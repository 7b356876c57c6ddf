/**
 * Tells the server to stop a reply: `POST /api/chat/:messageId/stop` as the signed-in user.
 *
 * Contract: resolves with the server's answer — `stopping` (the model was still writing and is being
 * stopped) or `ended` (it had already finished) — and rejects with a `WxstreamError` like every
 * authed request (re-login once on a refused token). The page calls it fire-and-forget after the
 * local stop, which has already kept the partial reply; a failure is only worth a log line, since the
 * server ends an abandoned reply on its own.
 */
import { routePath, ROUTES, WxstreamError, type StopReplyResponse } from '../vendor/wxstream-client.js';
import { requestAuthedJson, type AuthedRequestDeps } from './authed-request.ts';

export interface StopReplyDeps extends AuthedRequestDeps {
  serverUrl: string;
}

const STOP_TIMEOUT_MS = 10_000;

export async function stopReplyOnServer(deps: StopReplyDeps, messageId: string): Promise<StopReplyResponse['status']> {
  const url = deps.serverUrl + routePath(ROUTES.stopReply, { messageId });
  const { data } = await requestAuthedJson(deps, { url, method: 'POST', body: {}, timeoutMs: STOP_TIMEOUT_MS });
  const status = (data as { status?: unknown } | null)?.status;
  if (status !== 'stopping' && status !== 'ended') {
    throw new WxstreamError('bad_response', `POST ${routePath(ROUTES.stopReply, { messageId })} answered ${JSON.stringify(data)}`);
  }
  return status;
}
