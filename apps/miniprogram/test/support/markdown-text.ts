/**
 * Reads a list of rendered Markdown blocks (markdown-block components) back as text: blocks separated by
 * a blank line, a code block as its code (lines joined by newlines, without its language label and copy
 * button). For a reply of plain paragraphs, that is its source exactly.
 */

/** Elements under `root` whose class list holds `name` (simulate prefixes classes with their component: `code-block--name`). */
function byClass(root: Element, name: string): Element[] {
  return Array.from(root.querySelectorAll('*')).filter((el) => Array.from(el.classList).some((cls) => cls === name || cls.endsWith(`--${name}`)));
}

function blockText(block: Element): string {
  const lines = byClass(block, 'code-line');
  if (lines.length === 0) return block.textContent ?? '';
  // An empty line holds one space so that it keeps its height.
  return lines.map((line) => (line.textContent === ' ' ? '' : (line.textContent ?? ''))).join('\n');
}

/** The text of the markdown-block elements directly inside `container`. */
export function blocksText(container: Element): string {
  return Array.from(container.children, blockText).join('\n\n');
}
