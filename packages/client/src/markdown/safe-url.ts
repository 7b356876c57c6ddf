/**
 * Which link and image targets may reach the screen.
 *
 * Contract: a link target survives only as an absolute `http:`/`https:` URL, an image source only as
 * `https:` (the mini-program's image component needs a secure source, and http would mix content).
 * Anything else — `javascript:`, `data:`, `vbscript:`, relative paths, protocol-relative `//x`, URLs with
 * whitespace, quotes, angle brackets or control characters — gives undefined, and the renderer then
 * shows the link's text without a link (an image's alt text without the image).
 */

const SAFE = /^https?:\/\/[^\s"'<>`\\\u0000-\u001f\u007f]+$/i;

export function safeLinkHref(href: string): string | undefined {
  const trimmed = href.trim();
  return SAFE.test(trimmed) ? trimmed : undefined;
}

export function safeImageSrc(src: string): string | undefined {
  const trimmed = src.trim();
  return SAFE.test(trimmed) && /^https:/i.test(trimmed) ? trimmed : undefined;
}
