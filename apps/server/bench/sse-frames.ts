/**
 * A deliberately minimal SSE frame splitter for load generators: the server's own framing only.
 *
 * Contract: `feed(text)` takes decoded text in whatever pieces the socket delivered and returns the
 * complete frames it finished, in order; an unfinished frame is carried to the next feed. It relies
 * on the server's framing (`formatSseEvent`: `id: `, `event: `, `data: ` lines, each frame ended by
 * a blank line, heartbeats as `:` comment frames, LF only) and does no other SSE parsing — no
 * multi-line data, no CR, no field without its space — because a soak client that parses like the
 * real client would measure itself instead of the server. Comment frames are dropped. `data` is
 * returned as raw JSON text, for the caller to parse only when it needs the payload.
 */

export interface SseFrame {
  /** The `id:` field as a number; NaN when absent. */
  readonly id: number;
  readonly event: string;
  readonly data: string;
}

export class SseFrameSplitter {
  /** Text after the last blank line seen: the start of a frame still arriving. */
  #carry = '';

  feed(text: string): SseFrame[] {
    const frames: SseFrame[] = [];
    let buffer = this.#carry + text;
    let end = buffer.indexOf('\n\n');
    while (end !== -1) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      end = buffer.indexOf('\n\n');
      if (block.startsWith(':')) continue;
      let id = Number.NaN;
      let event = '';
      let data = '';
      for (const line of block.split('\n')) {
        if (line.startsWith('id: ')) id = Number(line.slice(4));
        else if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data: ')) data = line.slice(6);
      }
      frames.push({ id, event, data });
    }
    this.#carry = buffer;
    return frames;
  }
}
