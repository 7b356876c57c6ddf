/**
 * `renderMarkdown(markdown)`: a whole Markdown text at once → rich-text nodes, one per block. Pure.
 *
 * This is the reference the streaming path (`MarkdownStream`) must end equal to, and what a stored
 * reply reopened from history is shown with.
 */
import { lexMarkdown, normalizeNewlines } from './markdown-lexer.ts';
import { renderBlocks } from './markdown-render.ts';
import type { RichTextNode } from './rich-text-node.ts';

export function renderMarkdown(markdown: string): RichTextNode[] {
  return renderBlocks(lexMarkdown(normalizeNewlines(markdown)));
}
