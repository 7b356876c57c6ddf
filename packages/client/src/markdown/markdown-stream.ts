/**
 * `MarkdownStream`: Markdown that arrives in pieces → rich-text blocks, at a cost per update bounded by
 * the open block, not by the reply.
 *
 * Contract:
 * - `append(text)` adds a delta (any split, even inside a character or a CRLF); `end()` says no more
 *   comes. Work happens lazily, when `finished`/`open` are read, so many deltas per frame cost one update.
 * - `finished` only grows: a block in it never changes again and is exactly the node `renderMarkdown`
 *   gives that block in the whole text. `open` is the rest — the block(s) still being written, rendered
 *   with half-typed syntax closed (`completeOpenMarkdown`) and the open code block highlighted
 *   incrementally. After `end()`, `open` is empty and `finished` equals `renderMarkdown(wholeText)`.
 * - Incremental boundary detection: only the text from the start of the open region is lexed again.
 *   A top-level block is finished once a later block has begun with a complete line and the block
 *   before that later one is not a paragraph (so re-lexing from there needs no context — marked lets a
 *   paragraph absorb what follows it). This is what keeps lists, fenced and indented code, block quotes
 *   and tables open across blank lines for as long as they can still grow.
 */
import { OpenCodeHighlighter } from './code-highlight.ts';
import { lexMarkdown, normalizeNewlines } from './markdown-lexer.ts';
import { renderBlock, renderBlocks } from './markdown-render.ts';
import type { RichTextNode } from './rich-text-node.ts';
import { completeOpenMarkdown } from './syntax-completion.ts';

export class MarkdownStream {
  /*
   * `text` — everything appended, newlines normalised; a trailing CR is held in `heldCR` until the next
   *   delta shows whether it starts a CRLF (so CRLF split across deltas still counts as one newline).
   * `stable` — offset in `text` where the open region starts; the text before it produced `finishedBlocks`
   *   and is never lexed again.
   * `dirty` — text arrived (or the stream ended) since the last `settle`.
   */
  private text = '';
  private heldCR = false;
  private stable = 0;
  private readonly finishedBlocks: RichTextNode[] = [];
  private openBlocks: RichTextNode[] = [];
  private dirty = false;
  private ended = false;
  private readonly highlighter = new OpenCodeHighlighter();
  private readonly highlight = (code: string, lang: string): RichTextNode[] => this.highlighter.render(code, lang);

  append(delta: string): void {
    if (this.ended) throw new Error('MarkdownStream.append: the stream has ended; start a new MarkdownStream for new text');
    if (delta === '') return;
    let piece = this.heldCR ? `\r${delta}` : delta;
    this.heldCR = piece.endsWith('\r');
    if (this.heldCR) piece = piece.slice(0, -1);
    this.text += normalizeNewlines(piece);
    this.dirty = true;
  }

  end(): void {
    if (this.ended) return;
    if (this.heldCR) this.text += '\n';
    this.heldCR = false;
    this.ended = true;
    this.dirty = true;
  }

  /** Whether `end()` was called. */
  get isEnded(): boolean {
    return this.ended;
  }

  /** The Markdown received so far (newlines normalised). */
  get source(): string {
    return this.heldCR ? `${this.text}\n` : this.text;
  }

  /** Blocks that will never change again, in order. The array only grows. */
  get finished(): readonly RichTextNode[] {
    this.settle();
    return this.finishedBlocks;
  }

  /** The blocks after `finished`, as they should look now; empty after `end()`. */
  get open(): readonly RichTextNode[] {
    this.settle();
    return this.openBlocks;
  }

  /** `finished` then `open`: everything to show now. */
  get blocks(): RichTextNode[] {
    this.settle();
    return [...this.finishedBlocks, ...this.openBlocks];
  }

  private settle(): void {
    if (!this.dirty) return;
    this.dirty = false;
    const tail = this.text.slice(this.stable);
    const tokens = lexMarkdown(tail);
    if (this.ended) {
      for (const node of renderBlocks(tokens)) this.finishedBlocks.push(node);
      this.stable = this.text.length;
      this.openBlocks = [];
      return;
    }

    const offsets: number[] = [];
    let offset = 0;
    for (const token of tokens) {
      offsets.push(offset);
      offset += token.raw.length;
    }
    // Should marked ever not account for every character, finish nothing rather than guess.
    const lastNewline = offset === tail.length ? tail.lastIndexOf('\n') : -1;
    let openFrom = 0;
    for (let k = tokens.length - 1; k > 0; k--) {
      const token = tokens[k];
      const before = tokens[k - 1];
      if (!token || !before || token.type === 'space') continue;
      if ((offsets[k] ?? 0) > lastNewline) continue;
      if (before.type === 'paragraph' || before.type === 'text') continue;
      openFrom = k;
      break;
    }
    for (let k = 0; k < openFrom; k++) {
      const token = tokens[k];
      const node = token ? renderBlock(token) : undefined;
      if (node) this.finishedBlocks.push(node);
    }
    const openStart = openFrom > 0 ? (offsets[openFrom] ?? 0) : 0;
    this.stable += openStart;
    const openSource = tail.slice(openStart);
    const display = completeOpenMarkdown(openSource);
    const openTokens = display === openSource ? tokens.slice(openFrom) : lexMarkdown(display);
    this.openBlocks = renderBlocks(openTokens, { highlight: this.highlight });
  }
}
