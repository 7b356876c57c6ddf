/**
 * marked's tokens → rich-text nodes, safely.
 *
 * Contract: `renderBlock(token)` turns one top-level token into at most one node (a `space` gives none);
 * it is pure and depends on that token only, so a finished block renders the same whenever it is
 * rendered. Raw HTML is shown as the text it is; links keep an `href` only if `safeLinkHref` allows it
 * (otherwise their text is shown unlinked), images a `src` only if `safeImageSrc` allows it (otherwise
 * their alt text); classes come from the fixed `md-*` set documented in docs/markdown.md; no `style`
 * attribute is ever written. Adjacent text nodes are merged, so equal Markdown gives structurally equal
 * trees. Element names: p, h1–h6, blockquote, ul, ol, li, pre > code, table > thead/tbody > tr > th/td,
 * hr, strong, em, del, code, a, img, br, span (task checkbox, highlighted code).
 */
import type { Token, Tokens } from 'marked';
import { highlightCode, highlightLanguage } from './code-highlight.ts';
import { decodeEntities } from './html-entities.ts';
import { isTextNode, textNode, type RichTextElement, type RichTextNode } from './rich-text-node.ts';
import { safeImageSrc, safeLinkHref } from './safe-url.ts';

/** How the code of a fenced/indented block is highlighted: whole by default; the stream passes its incremental one. */
export type CodeHighlighter = (code: string, lang: string) => RichTextNode[];

export interface RenderOptions {
  highlight?: CodeHighlighter;
}

/** From the first non-ASCII character of a bare URL to its end. */
const NON_ASCII_TAIL = /[^\x00-\x7f][\s\S]*$/;

function element(name: string, className: string, children?: RichTextNode[], attrs?: Record<string, string>): RichTextElement {
  const node: RichTextElement = { name, attrs: { class: className, ...attrs } };
  if (children !== undefined) node.children = children;
  return node;
}

function pushText(into: RichTextNode[], text: string): void {
  if (text === '') return;
  const last = into[into.length - 1];
  if (last && isTextNode(last)) last.text += text;
  else into.push(textNode(text));
}

function pushAll(into: RichTextNode[], nodes: readonly RichTextNode[]): void {
  for (const node of nodes) {
    if (isTextNode(node)) pushText(into, node.text);
    else into.push(node);
  }
}

/** A fence's language as a label: the first word of the info string, if it looks like a language name. */
export function codeLanguage(lang: string | undefined): string {
  const word = (lang ?? '').trim().split(/\s+/)[0] ?? '';
  return /^[\w+#.-]{1,32}$/.test(word) ? word : '';
}

function inlineChildren(tokens: readonly Token[] | undefined): RichTextNode[] {
  const out: RichTextNode[] = [];
  for (const token of tokens ?? []) renderInline(token, out);
  return out;
}

function renderInline(token: Token, out: RichTextNode[]): void {
  switch (token.type) {
    case 'text': {
      const text = token as Tokens.Text;
      if (text.tokens && text.tokens.length > 0) pushAll(out, inlineChildren(text.tokens));
      else pushText(out, decodeEntities(text.text));
      return;
    }
    case 'escape':
      pushText(out, (token as Tokens.Escape).text);
      return;
    case 'html':
    case 'tag':
      pushText(out, token.raw);
      return;
    case 'strong':
      out.push(element('strong', 'md-strong', inlineChildren((token as Tokens.Strong).tokens)));
      return;
    case 'em':
      out.push(element('em', 'md-em', inlineChildren((token as Tokens.Em).tokens)));
      return;
    case 'del':
      out.push(element('del', 'md-del', inlineChildren((token as Tokens.Del).tokens)));
      return;
    case 'codespan':
      out.push(element('code', 'md-inline-code', [textNode((token as Tokens.Codespan).text)]));
      return;
    case 'br':
      out.push(element('br', 'md-br'));
      return;
    case 'link': {
      const link = token as Tokens.Link;
      if (link.raw === link.href) {
        // A bare URL: GFM runs it to the next space, so Chinese text written right after it (`见
        // https://a.cn。然后`) would join the link. It ends at the first non-ASCII character instead
        // (a URL with Chinese in it can still be written as [text](url) or percent-encoded).
        const url = link.href.replace(NON_ASCII_TAIL, '');
        if (url !== link.href) {
          renderInline({ ...link, raw: url, href: url, text: url, tokens: [{ type: 'text', raw: url, text: url }] }, out);
          pushText(out, link.href.slice(url.length));
          return;
        }
      }
      const children = inlineChildren(link.tokens);
      const href = safeLinkHref(link.href);
      if (href === undefined) pushAll(out, children);
      else out.push(element('a', 'md-link', children, { href }));
      return;
    }
    case 'image': {
      const image = token as Tokens.Image;
      const alt = decodeEntities(image.text);
      const src = safeImageSrc(image.href);
      if (src === undefined) pushText(out, alt);
      else out.push(element('img', 'md-img', undefined, { src, alt }));
      return;
    }
    case 'checkbox':
      out.push(element('span', (token as Tokens.Checkbox).checked ? 'md-task md-task-done' : 'md-task', [textNode((token as Tokens.Checkbox).checked ? '☑' : '☐')]));
      pushText(out, ' ');
      return;
    default:
      // Anything else marked may add later: its source, as text — never dropped, never markup.
      pushText(out, token.raw);
  }
}

function renderListItem(item: Tokens.ListItem, options: RenderOptions): RichTextElement {
  const children: RichTextNode[] = [];
  for (const token of item.tokens) {
    if (token.type === 'text' || token.type === 'checkbox') renderInline(token, children);
    else {
      const block = renderBlock(token, options);
      if (block) children.push(block);
    }
  }
  const className = item.task ? (item.checked ? 'md-li md-li-task md-li-done' : 'md-li md-li-task') : 'md-li';
  return element('li', className, children);
}

function renderTable(table: Tokens.Table): RichTextElement {
  const align = (index: number): string => {
    const value = table.align[index];
    return value ? ` md-align-${value}` : '';
  };
  const header = element(
    'tr',
    'md-tr',
    table.header.map((cell, index) => element('th', `md-th${align(index)}`, inlineChildren(cell.tokens))),
  );
  const rows = table.rows.map((row) =>
    element('tr', 'md-tr', row.map((cell, index) => element('td', `md-td${align(index)}`, inlineChildren(cell.tokens)))),
  );
  const children: RichTextNode[] = [element('thead', 'md-thead', [header])];
  if (rows.length > 0) children.push(element('tbody', 'md-tbody', rows));
  return element('table', 'md-table', children);
}

export function renderCodeBlock(code: string, info: string | undefined, highlight: CodeHighlighter = highlightCode): RichTextElement {
  const lang = codeLanguage(info);
  const known = highlightLanguage(lang) !== undefined;
  return element('pre', 'md-code', [element('code', known ? 'md-code-body hljs' : 'md-code-body', highlight(code, lang))], { 'data-lang': lang });
}

export function renderBlock(token: Token, options: RenderOptions = {}): RichTextElement | undefined {
  switch (token.type) {
    case 'space':
    case 'def':
      return undefined;
    case 'heading': {
      const heading = token as Tokens.Heading;
      const level = Math.min(Math.max(heading.depth, 1), 6);
      return element(`h${level}`, `md-h md-h${level}`, inlineChildren(heading.tokens));
    }
    case 'paragraph':
      return element('p', 'md-p', inlineChildren((token as Tokens.Paragraph).tokens));
    case 'text': {
      const text = token as Tokens.Text;
      return element('p', 'md-p', text.tokens ? inlineChildren(text.tokens) : [textNode(decodeEntities(text.text))]);
    }
    case 'hr':
      return element('hr', 'md-hr');
    case 'code': {
      const code = token as Tokens.Code;
      return renderCodeBlock(code.text, code.lang, options.highlight);
    }
    case 'blockquote': {
      const children: RichTextNode[] = [];
      for (const child of (token as Tokens.Blockquote).tokens) {
        const block = renderBlock(child, options);
        if (block) children.push(block);
      }
      return element('blockquote', 'md-quote', children);
    }
    case 'list': {
      const list = token as Tokens.List;
      const items = list.items.map((item) => renderListItem(item, options));
      if (list.ordered) {
        const start = typeof list.start === 'number' ? list.start : 1;
        return element('ol', 'md-list md-ol', items, start === 1 ? undefined : { start: String(start) });
      }
      return element('ul', 'md-list md-ul', items);
    }
    case 'table':
      return renderTable(token as Tokens.Table);
    case 'html':
      // Raw HTML is shown as the text the model wrote, never as elements.
      return element('p', 'md-p md-raw', [textNode(token.raw.replace(/\n+$/, ''))]);
    default:
      return element('p', 'md-p md-raw', [textNode(token.raw.replace(/\n+$/, ''))]);
  }
}

/** Renders top-level tokens in order, skipping the ones that produce nothing. */
export function renderBlocks(tokens: readonly Token[], options: RenderOptions = {}): RichTextElement[] {
  const out: RichTextElement[] = [];
  for (const token of tokens) {
    const node = renderBlock(token, options);
    if (node) out.push(node);
  }
  return out;
}
