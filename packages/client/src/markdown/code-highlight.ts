/**
 * Syntax highlighting of code blocks: highlight.js core with the languages chat answers use, its HTML
 * output read back into rich-text nodes.
 *
 * Contract:
 * - `highlightCode(code, lang)` returns nodes whose plain text is exactly `code`: `span` elements with
 *   highlight.js classes (`hljs-keyword`, …) around text. An unknown or empty language gives one text
 *   node. Pure and deterministic.
 * - `OpenCodeHighlighter` highlights a code block that is still growing without re-tokenising all of it
 *   every frame: lines before a checkpoint keep the nodes they got; only the text after the checkpoint
 *   is highlighted again. A checkpoint is set at a line break where highlighting stood at top level (no
 *   span open) once CHECKPOINT_CHARS have piled up after the previous one (or, failing such a break for
 *   FORCE_CHECKPOINT_CHARS, at the last line break: a very long comment may then be coloured as code
 *   until the block finishes). Colours of the open block may therefore differ slightly from the finished
 *   block's, which is highlighted whole, once; the text never differs. Code longer than
 *   MAX_HIGHLIGHT_CHARS is shown plain, open or finished.
 */
import { findLanguage, highlightHtml } from './highlight-engine.js';
import { isTextNode, plainText, textNode, type RichTextElement, type RichTextNode } from './rich-text-node.ts';

/** The registered language a fence's info string names (aliases such as `js`, `py`, `sh`, `html` included). */
export function highlightLanguage(lang: string): string | undefined {
  if (lang === '') return undefined;
  return findLanguage(lang.toLowerCase());
}

const ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#x27;': "'", '&#39;': "'" };

function decodeHljsText(text: string): string {
  return text.indexOf('&') === -1 ? text : text.replace(/&(?:amp|lt|gt|quot|#x27|#39);/g, (entity) => ENTITIES[entity] ?? entity);
}

function appendText(into: RichTextNode[], text: string): void {
  if (text === '') return;
  const last = into[into.length - 1];
  if (last && isTextNode(last)) last.text += text;
  else into.push(textNode(text));
}

/** Reads highlight.js's HTML (only `<span class="…">`, `</span>` and escaped text) back into nodes. */
function parseHighlightHtml(html: string): RichTextNode[] {
  const root: RichTextNode[] = [];
  const stack: RichTextNode[][] = [root];
  const tag = /<span class="([^"]*)">|<\/span>/g;
  let last = 0;
  for (let match = tag.exec(html); match; match = tag.exec(html)) {
    const current = stack[stack.length - 1] ?? root;
    appendText(current, decodeHljsText(html.slice(last, match.index)));
    last = tag.lastIndex;
    if (match[1] !== undefined) {
      const span: RichTextElement = { name: 'span', attrs: { class: match[1] }, children: [] };
      current.push(span);
      stack.push(span.children ?? []);
    } else if (stack.length > 1) {
      stack.pop();
    }
  }
  appendText(stack[stack.length - 1] ?? root, decodeHljsText(html.slice(last)));
  return root;
}

/**
 * Longer code is shown plain: highlight.js needs ~2 s for 250 KB of JavaScript on this project's CI
 * machine, and no phone should spend that on one block.
 */
export const MAX_HIGHLIGHT_CHARS = 20_000;

export function highlightCode(code: string, lang: string): RichTextNode[] {
  const language = highlightLanguage(lang);
  if (code === '') return [];
  if (language === undefined || code.length > MAX_HIGHLIGHT_CHARS) return [textNode(code)];
  return parseHighlightHtml(highlightHtml(code, language));
}

/** Highlighted text after a checkpoint before it is worth setting a new one. */
export const CHECKPOINT_CHARS = 400;
/** Past this much text without a top-level line break, a checkpoint is set at the last line break anyway. */
export const FORCE_CHECKPOINT_CHARS = 6000;

/**
 * Splits `nodes` (top-level) at the last line break that is in a top-level text node, i.e. outside every
 * span. Returns the nodes up to and including that newline, their text length, and the rest; or
 * undefined when there is no such line break.
 */
function splitAtTopLevelBreak(nodes: readonly RichTextNode[]): { head: RichTextNode[]; length: number } | undefined {
  let offset = 0;
  let best: { index: number; at: number; offset: number } | undefined;
  nodes.forEach((node, index) => {
    const text = plainText([node]);
    if (isTextNode(node)) {
      const at = node.text.lastIndexOf('\n');
      if (at !== -1) best = { index, at, offset: offset + at + 1 };
    }
    offset += text.length;
  });
  if (!best) return undefined;
  const { index, at } = best;
  const head = nodes.slice(0, index);
  const node = nodes[index];
  if (node && isTextNode(node)) head.push(textNode(node.text.slice(0, at + 1)));
  return { head, length: best.offset };
}

/** Splits plain nodes at the last line break (used when no top-level break exists). */
function splitAtLastBreak(code: string): { head: RichTextNode[]; length: number } | undefined {
  const at = code.lastIndexOf('\n');
  if (at === -1) return undefined;
  return { head: [textNode(code.slice(0, at + 1))], length: at + 1 };
}

export class OpenCodeHighlighter {
  /*
   * `lang` — the language this highlighter is for; a different one starts over.
   * `doneText` — the code before the checkpoint: always a prefix of the code last rendered, ending in a
   *   newline (or empty). Its nodes `doneNodes` are never recomputed while the block grows.
   */
  private lang = '';
  private doneText = '';
  private doneNodes: RichTextNode[] = [];

  /** Length of the code whose nodes are kept (never highlighted again while the block grows). */
  get checkpoint(): number {
    return this.doneText.length;
  }

  render(code: string, lang: string): RichTextNode[] {
    if (lang !== this.lang || !code.startsWith(this.doneText)) {
      this.lang = lang;
      this.doneText = '';
      this.doneNodes = [];
    }
    if (highlightLanguage(lang) === undefined || code.length > MAX_HIGHLIGHT_CHARS) return code === '' ? [] : [textNode(code)];
    const rest = code.slice(this.doneText.length);
    const restNodes = highlightCode(rest, lang);
    if (rest.length >= CHECKPOINT_CHARS) {
      const split = splitAtTopLevelBreak(restNodes) ?? (rest.length >= FORCE_CHECKPOINT_CHARS ? splitAtLastBreak(rest) : undefined);
      if (split && split.length > 0) {
        this.doneNodes = joinNodes(this.doneNodes, split.head);
        this.doneText += rest.slice(0, split.length);
        return joinNodes(this.doneNodes, highlightCode(code.slice(this.doneText.length), lang));
      }
    }
    return joinNodes(this.doneNodes, restNodes);
  }
}

/** `a` then `b`, merging the text nodes that meet (copies: the inputs are kept as they are). */
function joinNodes(a: readonly RichTextNode[], b: readonly RichTextNode[]): RichTextNode[] {
  const out = a.map(cloneShallowText);
  for (const node of b) {
    if (isTextNode(node)) appendText(out, node.text);
    else out.push(node);
  }
  return out;
}

function cloneShallowText(node: RichTextNode): RichTextNode {
  return isTextNode(node) ? textNode(node.text) : node;
}
