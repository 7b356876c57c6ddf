/**
 * The Markdown pipeline: `renderMarkdown` for a whole text, `MarkdownStream` for text that streams in,
 * both producing WeChat rich-text nodes (docs/markdown.md).
 */
export * from './rich-text-node.ts';
export { renderMarkdown } from './render-markdown.ts';
export { MarkdownStream } from './markdown-stream.ts';
export { completeOpenMarkdown } from './syntax-completion.ts';
export { highlightCode, highlightLanguage, OpenCodeHighlighter } from './code-highlight.ts';
export { safeImageSrc, safeLinkHref } from './safe-url.ts';
