/**
 * One reply's (or one reasoning panel's) Markdown as the view holds it, and the path keys that move the
 * view on as the typewriter reveals more of its source.
 *
 * Contract:
 * - `update(text, final)` takes the whole revealed Markdown source (the typewriter's frame, or the whole
 *   text at the end) and returns the `setData` entries under `path`. When `text` extends what was shown,
 *   only the difference goes into the `MarkdownStream`; otherwise (a retried reply starting over) a new
 *   stream begins and the whole list is set once.
 * - Per frame: a block that has just finished is sent at most once more (only its paths that differ
 *   from the open version the view held) and never again; the open block(s) are diffed against what the
 *   view holds (`diffPaths`), so a growing paragraph costs its last run and a growing code block its last
 *   line. The view's list never shrinks mid-reply: a slot the open region no longer uses is set to
 *   `{ kind: 'none' }` (renders nothing) rather than resending the list.
 * - `final` ends the stream: the view then holds exactly `displayBlocks(renderMarkdown(text))` (plus
 *   `none` slots), the same blocks a stored reply is shown with.
 */
import { MarkdownStream } from '../../vendor/wxstream-client.js';
import { displayBlock, displayBlocks, type DisplayBlock } from '../../components/markdown-block/display-block.ts';
import { diffPaths } from './path-diff.ts';

export class ReplyMarkdown {
  /*
   * `source` — the Markdown the stream has been given. `shown` — the blocks the view holds under the
   * path, `none` slots included. `sentFinished` — how many leading blocks are finished and final in the
   * view (never diffed again).
   */
  private stream = new MarkdownStream();
  private source = '';
  private shown: DisplayBlock[] = [];
  private sentFinished = 0;

  /** The Markdown source given so far. */
  get text(): string {
    return this.source;
  }

  /** What the view holds now. */
  get blocks(): readonly DisplayBlock[] {
    return this.shown;
  }

  /** Starts from blocks the view already holds for `text` (a stored reply), rendered whole. */
  static fromStored(text: string, blocks: DisplayBlock[]): ReplyMarkdown {
    const reply = new ReplyMarkdown();
    reply.stream.append(text);
    reply.source = text;
    reply.shown = blocks;
    reply.sentFinished = 0;
    return reply;
  }

  update(path: string, text: string, final: boolean): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    if (this.stream.isEnded && text === this.source) return out;
    if (this.stream.isEnded || !text.startsWith(this.source)) {
      // Not a continuation: start over and set the list once.
      const held = this.shown.length;
      this.stream = new MarkdownStream();
      this.source = '';
      this.shown = [];
      this.sentFinished = 0;
      this.advance(text, final);
      if (held > 0 || this.shown.length > 0) out[path] = this.shown;
      return out;
    }
    const before = this.shown;
    const firstNotFinal = this.sentFinished;
    this.advance(text, final);
    for (let index = firstNotFinal; index < this.shown.length; index++) {
      const at = `${path}[${index}]`;
      if (index < before.length) diffPaths(at, before[index], this.shown[index], out);
      else out[at] = this.shown[index];
    }
    return out;
  }

  private advance(text: string, final: boolean): void {
    if (text.length > this.source.length) this.stream.append(text.slice(this.source.length));
    this.source = text;
    if (final) this.stream.end();
    const finished = this.stream.finished;
    const open = this.stream.open;
    const next = this.shown.slice(0, this.sentFinished);
    for (let index = this.sentFinished; index < finished.length; index++) {
      const node = finished[index];
      if (node) next.push(displayBlock(node, String(index)));
    }
    for (const block of displayBlocks(open, finished.length)) next.push(block);
    for (let index = next.length; index < this.shown.length; index++) next.push({ key: String(index), kind: 'none' });
    this.sentFinished = finished.length;
    this.shown = next;
  }
}
