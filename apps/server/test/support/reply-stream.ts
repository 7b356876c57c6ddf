/**
 * Reads a whole reply body strictly, for assertions about the wire format.
 *
 * Contract: the body must be a sequence of blocks each ending in a blank line; a block is either
 * the heartbeat comment (`: ping`) or exactly `id:`, `event:`, `data:` lines that
 * `parseReplyEvent` accepts. Anything else — a heartbeat inside an event, a torn frame, trailing
 * bytes — throws, so a test that parses a body has checked its framing too.
 */
import { parseReplyEvent, type ReplyEvent } from '@wxstream/protocol';

export type ReplyBlock = { kind: 'event'; event: ReplyEvent } | { kind: 'heartbeat' };

export interface ParsedReply {
  readonly blocks: readonly ReplyBlock[];
  readonly events: readonly ReplyEvent[];
  /** Concatenated `delta` texts. */
  readonly text: string;
  /** Concatenated `reasoning` texts. */
  readonly reasoning: string;
}

export function parseReplyBody(body: string): ParsedReply {
  if (body !== '' && !body.endsWith('\n\n')) throw new Error(`reply does not end with a complete block: ${JSON.stringify(body.slice(-80))}`);
  const blocks: ReplyBlock[] = [];
  for (const block of body.split('\n\n').slice(0, -1)) {
    if (block === ': ping') {
      blocks.push({ kind: 'heartbeat' });
      continue;
    }
    const lines = block.split('\n');
    const [idLine, eventLine, dataLine] = lines;
    if (lines.length !== 3 || !idLine?.startsWith('id: ') || !eventLine?.startsWith('event: ') || !dataLine?.startsWith('data: ')) {
      throw new Error(`malformed block: ${JSON.stringify(block)}`);
    }
    const parsed = parseReplyEvent({ id: idLine.slice(4), event: eventLine.slice(7), data: dataLine.slice(6) });
    if (!parsed.ok) throw new Error(`invalid event: ${parsed.reason}`);
    blocks.push({ kind: 'event', event: parsed.event });
  }
  const events = blocks.flatMap((block) => (block.kind === 'event' ? [block.event] : []));
  const texts = (type: 'delta' | 'reasoning') =>
    events.map((event) => (event.type === type ? event.data.text : '')).join('');
  return { blocks, events, text: texts('delta'), reasoning: texts('reasoning') };
}
