/**
 * Test shorthands for the reply routes: resume a reply from an id, stop it, and cut a reply body
 * into its frames so a resumed body can be compared byte for byte with the original's remainder.
 */
import { LAST_EVENT_ID_QUERY, ROUTES, routePath } from '@wxstream/protocol';
import { openStream, send, type HttpAnswer, type OpenStream } from './http-client.ts';

/** How to pass the last event id: the header, the query (as `wx.request` clients do), or both. */
export type ResumeVia = 'header' | 'query' | 'both';

export function resumePath(messageId: string, lastEventId: string | undefined, via: ResumeVia): string {
  const path = routePath(ROUTES.replyEvents, { messageId });
  return lastEventId !== undefined && via !== 'header' ? `${path}?${LAST_EVENT_ID_QUERY}=${encodeURIComponent(lastEventId)}` : path;
}

function resumeHeaders(token: string, lastEventId: string | undefined, via: ResumeVia): Record<string, string> {
  return {
    Authorization: `Bearer ${token}`,
    ...(lastEventId !== undefined && via !== 'query' ? { 'Last-Event-ID': lastEventId } : {}),
  };
}

export function resume(url: string, token: string, messageId: string, lastEventId: string | undefined, via: ResumeVia = 'header'): Promise<HttpAnswer> {
  return send(url, resumePath(messageId, lastEventId, via), { headers: resumeHeaders(token, lastEventId, via) });
}

export function openResume(url: string, token: string, messageId: string, lastEventId: string | undefined, via: ResumeVia = 'header'): Promise<OpenStream> {
  return openStream(url, resumePath(messageId, lastEventId, via), { headers: resumeHeaders(token, lastEventId, via) });
}

export function stopReply(url: string, token: string, messageId: string): Promise<HttpAnswer> {
  return send(url, routePath(ROUTES.stopReply, { messageId }), { method: 'POST', headers: { Authorization: `Bearer ${token}` } });
}

/** The complete event frames of a body, heartbeats left out, in order (a torn last frame is dropped). */
export function eventFrames(body: string): string[] {
  const blocks = body.split('\n\n');
  blocks.pop();
  return blocks.filter((block) => block !== ': ping').map((block) => `${block}\n\n`);
}

/** The frames with an id greater than `afterId`, joined: what a resume from `afterId` must send. */
export function framesAfter(body: string, afterId: number): string {
  return eventFrames(body)
    .filter((frame) => Number(/^id: (\d+)\n/.exec(frame)?.[1]) > afterId)
    .join('');
}

/** Id of the last complete event frame received; 0 before any. */
export function lastFrameId(body: string): number {
  const last = eventFrames(body).at(-1);
  return last === undefined ? 0 : Number(/^id: (\d+)\n/.exec(last)?.[1]);
}
