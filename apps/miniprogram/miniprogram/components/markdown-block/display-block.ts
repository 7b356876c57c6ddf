/**
 * Rich-text nodes (from the client core's Markdown pipeline) → the display blocks the `markdown-block`
 * component renders.
 *
 * Why a second shape: WXML has no recursive templates and no inline events inside `<rich-text>`, so a
 * paragraph is rendered as runs of `<text>` (selectable, links tappable) and a code block as lines of
 * runs (copyable, scrollable, and updated a line at a time through path keys). Contract: pure and
 * deterministic — equal nodes give deep-equal blocks, so a finished block's display never changes and the
 * page's path-key diff of two frames finds only what really changed. Every field always has a value
 * (setData never carries undefined). The text of a code block's lines, joined with '\n', is exactly its
 * code; inline runs keep every character of their text nodes.
 */
import { isTextNode, type RichTextElement, type RichTextNode } from '../../vendor/wxstream-client.js';

/** A piece of inline text with the classes of its marks (`md-strong md-em`, `hljs-keyword`) and its link, if any. */
export interface Run {
  text: string;
  cls: string;
  /** The http(s) URL a tap copies; '' when the run is not a link. */
  href: string;
}

export type InlinePart = { kind: 'text'; runs: Run[] } | { kind: 'image'; src: string; alt: string };

export interface ListItem {
  /** '•', '3.', or '' for a task item (its box is the first run). */
  marker: string;
  blocks: DisplayBlock[];
}

export interface TableCell {
  cls: string;
  parts: InlinePart[];
}

export interface TableRow {
  header: boolean;
  cells: TableCell[];
}

export type DisplayBlock =
  | { key: string; kind: 'para'; cls: string; parts: InlinePart[] }
  | { key: string; kind: 'heading'; level: number; parts: InlinePart[] }
  | { key: string; kind: 'code'; lang: string; lines: Run[][] }
  | { key: string; kind: 'list'; ordered: boolean; items: ListItem[] }
  | { key: string; kind: 'quote'; children: DisplayBlock[] }
  | { key: string; kind: 'table'; rows: TableRow[] }
  | { key: string; kind: 'hr' }
  /** Text shown as typed (the user's own messages). */
  | { key: string; kind: 'plain'; text: string }
  /** A slot the streaming reply no longer uses (its open region shrank); renders nothing. */
  | { key: string; kind: 'none' };

const INLINE_CLASS: Record<string, string> = {
  strong: 'md-strong',
  em: 'md-em',
  del: 'md-del',
  code: 'md-inline-code',
  a: 'md-link',
};

const BLOCK_NAMES = new Set(['p', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'pre', 'blockquote', 'ul', 'ol', 'table', 'hr']);

function classOf(node: RichTextElement): string {
  return node.attrs?.class ?? '';
}

/** Adds `text` to `parts` as a run, merged with the previous run when it has the same marks. */
function pushRun(parts: InlinePart[], text: string, cls: string, href: string): void {
  if (text === '') return;
  const last = parts[parts.length - 1];
  if (last?.kind === 'text') {
    const run = last.runs[last.runs.length - 1];
    if (run && run.cls === cls && run.href === href) run.text += text;
    else last.runs.push({ text, cls, href });
  } else {
    parts.push({ kind: 'text', runs: [{ text, cls, href }] });
  }
}

function collectInline(nodes: readonly RichTextNode[], classes: readonly string[], href: string, parts: InlinePart[]): void {
  for (const node of nodes) {
    if (isTextNode(node)) {
      pushRun(parts, node.text, classes.join(' '), href);
      continue;
    }
    if (node.name === 'br') {
      pushRun(parts, '\n', classes.join(' '), href);
    } else if (node.name === 'img') {
      parts.push({ kind: 'image', src: node.attrs?.src ?? '', alt: node.attrs?.alt ?? '' });
    } else {
      const cls = INLINE_CLASS[node.name] ?? classOf(node);
      collectInline(node.children ?? [], cls ? [...classes, cls] : classes, node.name === 'a' ? (node.attrs?.href ?? '') : href, parts);
    }
  }
}

export function inlineParts(nodes: readonly RichTextNode[]): InlinePart[] {
  const parts: InlinePart[] = [];
  collectInline(nodes, [], '', parts);
  return parts;
}

/** Highlighted code nodes → lines of runs; a span crossing a line break is split across the lines. */
export function codeLines(nodes: readonly RichTextNode[]): Run[][] {
  const lines: Run[][] = [[]];
  const walk = (list: readonly RichTextNode[], cls: string): void => {
    for (const node of list) {
      if (!isTextNode(node)) {
        const own = classOf(node);
        walk(node.children ?? [], cls && own ? `${cls} ${own}` : cls || own);
        continue;
      }
      const pieces = node.text.split('\n');
      pieces.forEach((piece, index) => {
        if (index > 0) lines.push([]);
        if (piece === '') return;
        const line = lines[lines.length - 1] ?? [];
        const last = line[line.length - 1];
        if (last && last.cls === cls) last.text += piece;
        else line.push({ text: piece, cls, href: '' });
      });
    }
  };
  walk(nodes, '');
  return lines;
}

/** The code a code block's lines hold (what the copy button copies). */
export function codeText(lines: readonly (readonly Run[])[]): string {
  return lines.map((line) => line.map((run) => run.text).join('')).join('\n');
}

function childBlocks(nodes: readonly RichTextNode[], tight: boolean): DisplayBlock[] {
  const blocks: DisplayBlock[] = [];
  let inline: RichTextNode[] = [];
  const flush = (): void => {
    if (inline.length === 0) return;
    blocks.push({ key: String(blocks.length), kind: 'para', cls: tight ? 'md-p md-tight' : 'md-p', parts: inlineParts(inline) });
    inline = [];
  };
  for (const node of nodes) {
    if (!isTextNode(node) && BLOCK_NAMES.has(node.name)) {
      flush();
      blocks.push(displayBlock(node, String(blocks.length)));
    } else {
      inline.push(node);
    }
  }
  flush();
  return blocks;
}

function listItems(list: RichTextElement): ListItem[] {
  const ordered = list.name === 'ol';
  const start = Number(list.attrs?.start ?? '1');
  return (list.children ?? []).map((li, index) => {
    const element = isTextNode(li) ? undefined : li;
    const task = element !== undefined && classOf(element).includes('md-li-task');
    return {
      marker: task ? '' : ordered ? `${start + index}.` : '•',
      blocks: childBlocks(element?.children ?? (isTextNode(li) ? [li] : []), true),
    };
  });
}

function tableRows(table: RichTextElement): TableRow[] {
  const rows: TableRow[] = [];
  for (const section of table.children ?? []) {
    if (isTextNode(section)) continue;
    for (const row of section.children ?? []) {
      if (isTextNode(row)) continue;
      rows.push({
        header: section.name === 'thead',
        cells: (row.children ?? []).map((cell) => ({
          cls: isTextNode(cell) ? 'md-td' : classOf(cell),
          parts: inlineParts(isTextNode(cell) ? [cell] : (cell.children ?? [])),
        })),
      });
    }
  }
  return rows;
}

/** One top-level node → its display block, keyed `key`. */
export function displayBlock(node: RichTextNode, key: string): DisplayBlock {
  if (isTextNode(node)) return { key, kind: 'para', cls: 'md-p', parts: inlineParts([node]) };
  switch (node.name) {
    case 'h1':
    case 'h2':
    case 'h3':
    case 'h4':
    case 'h5':
    case 'h6':
      return { key, kind: 'heading', level: Number(node.name.slice(1)), parts: inlineParts(node.children ?? []) };
    case 'pre': {
      const code = (node.children ?? [])[0];
      const body = code && !isTextNode(code) ? (code.children ?? []) : [];
      return { key, kind: 'code', lang: node.attrs?.['data-lang'] ?? '', lines: codeLines(body) };
    }
    case 'blockquote':
      return { key, kind: 'quote', children: childBlocks(node.children ?? [], false) };
    case 'ul':
    case 'ol':
      return { key, kind: 'list', ordered: node.name === 'ol', items: listItems(node) };
    case 'table':
      return { key, kind: 'table', rows: tableRows(node) };
    case 'hr':
      return { key, kind: 'hr' };
    default:
      return { key, kind: 'para', cls: classOf(node) || 'md-p', parts: inlineParts(node.children ?? []) };
  }
}

/** Top-level nodes → display blocks keyed by position (blocks never move, so position is identity). */
export function displayBlocks(nodes: readonly RichTextNode[], offset = 0): DisplayBlock[] {
  return nodes.map((node, index) => displayBlock(node, String(offset + index)));
}

/** The user's own text, shown as typed. */
export function plainBlock(text: string): DisplayBlock {
  return { key: '0', kind: 'plain', text };
}
