/**
 * Reads a shared conversation: `GET /api/shares/:shareId`, which needs no token — whoever has the link
 * may read the snapshot, signed in or not.
 *
 * Contract: resolves with the snapshot (title and messages in reading order: role, text, time), checked
 * against the contract's shape; rejects with a `WxstreamError` — `not_found` for a share that never
 * existed or was revoked (the page says which it cannot tell apart: 已取消分享或不存在), `bad_response`
 * for an answer of another shape, the transport's codes otherwise.
 */
import { WxstreamError, type SharedConversation, type SharedMessage } from '../vendor/wxstream-client.js';
import { requestJson, type WxJsonRequest } from './json-request.ts';

import { sharePath } from './reply-actions-api.ts';

export const SHARE_TIMEOUT_MS = 15_000;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function readSharedConversation(value: unknown): SharedConversation | undefined {
  if (!isRecord(value) || typeof value.title !== 'string' || !Array.isArray(value.messages)) return undefined;
  const messages: SharedMessage[] = [];
  for (const item of value.messages) {
    if (!isRecord(item) || (item.role !== 'user' && item.role !== 'assistant') || typeof item.text !== 'string') return undefined;
    messages.push({ role: item.role, text: item.text, createdAt: typeof item.createdAt === 'string' ? item.createdAt : '' });
  }
  return { title: value.title, createdAt: typeof value.createdAt === 'string' ? value.createdAt : '', messages };
}

export async function fetchSharedConversation(
  deps: { serverUrl: string; request: WxJsonRequest },
  shareId: string,
): Promise<SharedConversation> {
  const answer = await requestJson(deps.request, { url: deps.serverUrl + sharePath(shareId), method: 'GET', timeoutMs: SHARE_TIMEOUT_MS });
  const share = readSharedConversation(answer.data);
  if (!share) throw new WxstreamError('bad_response', `GET ${sharePath(shareId)} does not have the contract's shape`);
  return share;
}
