/**
 * WeChat's `rich-text` node format — the platform's own AST — as the output of the Markdown pipeline.
 *
 * Contract: an element is `{ name, attrs?, children? }`, a text node `{ type: 'text', text }`. Text is
 * plain text, exactly what the reader sees (entities already decoded, never markup). Attributes are only
 * the ones the renderer writes (`class` from a fixed set, `href`/`src` that passed the URL policy, `alt`,
 * `start`, `data-lang`): never `style`, never an event. The same trees drive a `<rich-text nodes>` or
 * the mini-program's own block components.
 */

export interface RichTextElement {
  name: string;
  attrs?: Record<string, string>;
  children?: RichTextNode[];
}

export interface RichTextText {
  type: 'text';
  text: string;
}

export type RichTextNode = RichTextElement | RichTextText;

export function isTextNode(node: RichTextNode): node is RichTextText {
  return 'type' in node && node.type === 'text';
}

export function textNode(text: string): RichTextText {
  return { type: 'text', text };
}

/** The text a reader sees in `nodes`, concatenated (images contribute nothing). */
export function plainText(nodes: readonly RichTextNode[]): string {
  let out = '';
  for (const node of nodes) {
    if (isTextNode(node)) out += node.text;
    else if (node.children) out += plainText(node.children);
  }
  return out;
}
