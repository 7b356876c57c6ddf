/**
 * SSE framing of reply events, as the server writes them.
 *
 * Contract: one event is `id: <n>\nevent: <type>\ndata: <json>\n\n`. JSON.stringify never emits a raw
 * CR or LF (they are escaped inside strings), so `data` is always exactly one line and the frame needs
 * no multi-line splitting. Heartbeats are comment lines and only ever go between complete events.
 */
import type { ReplyEvent } from './reply-events.ts';

export const SSE_HEARTBEAT = ': ping\n\n';

export function formatSseEvent(event: ReplyEvent): string {
  return `id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(event.data)}\n\n`;
}
