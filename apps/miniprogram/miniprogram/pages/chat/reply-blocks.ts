/**
 * Splits a reply's text into display blocks, and turns the change between two splits into path keys.
 *
 * Why blocks: a reply only grows at its end, so once a paragraph or a code block is finished it never
 * changes again. Rendering the reply as a list of blocks lets each frame's `setData` carry only the
 * block being typed (`messages[3].blocks[7].text`) instead of the whole reply, so the bytes crossing the
 * logic→view bridge per frame stay bounded by the length of one paragraph, not of the whole reply.
 *
 * Contract of `splitReplyBlocks`:
 * - text blocks hold the text exactly, newlines included; a text block ends after a blank line (which it
 *   keeps), so rendering the blocks one under another with `white-space: pre-wrap` looks like the
 *   unsplit text, and the concatenated text of consecutive text blocks equals the source;
 * - a fenced code block (``` or ~~~, CommonMark rules: up to 3 spaces of indent, a closing fence of the
 *   same character at least as long) becomes one `code` block holding the code without its fences and
 *   without the newline before the closing fence, with `lang` from the info string; a fence still being
 *   typed counts as open, so code shows as code while it streams;
 * - splitting is deterministic and depends only on the text, so splitting a longer prefix of the same
 *   text changes only the last blocks.
 */

export interface ReplyBlock {
  /** The block's position in its reply: the template's `wx:key` (blocks never move, so position is identity). */
  id: number;
  kind: 'text' | 'code';
  text: string;
  /** Language of a code block from its info string; '' for text blocks (setData must never carry undefined). */
  lang: string;
}

interface Fence {
  char: string;
  length: number;
}

const OPENING_FENCE = /^ {0,3}(`{3,}|~{3,})[ \t]*([^\s`]*)[^`]*$/;
const CLOSING_FENCE = /^ {0,3}(`{3,}|~{3,})[ \t]*$/;

function openingFence(line: string): (Fence & { lang: string }) | undefined {
  const match = OPENING_FENCE.exec(line);
  if (!match) return undefined;
  const marker = match[1] ?? '';
  return { char: marker.charAt(0), length: marker.length, lang: match[2] ?? '' };
}

function closesFence(line: string, fence: Fence): boolean {
  const match = CLOSING_FENCE.exec(line);
  if (!match) return false;
  const marker = match[1] ?? '';
  return marker.charAt(0) === fence.char && marker.length >= fence.length;
}

function isBlank(text: string): boolean {
  return text.trim() === '';
}

export function splitReplyBlocks(text: string): ReplyBlock[] {
  const blocks: ReplyBlock[] = [];
  let open: ReplyBlock | undefined;
  let fence: Fence | undefined;
  let pos = 0;
  while (pos < text.length) {
    const newline = text.indexOf('\n', pos);
    const end = newline === -1 ? text.length : newline + 1;
    const line = text.slice(pos, end);
    const bare = line.replace(/\r?\n$/, '');
    pos = end;

    if (fence && open) {
      if (closesFence(bare, fence)) {
        open.text = open.text.replace(/\r?\n$/, '');
        fence = undefined;
        open = undefined;
      } else {
        open.text += line;
      }
      continue;
    }

    const opening = openingFence(bare);
    if (opening) {
      fence = { char: opening.char, length: opening.length };
      open = { id: blocks.length, kind: 'code', text: '', lang: opening.lang };
      blocks.push(open);
      continue;
    }

    if (!open) {
      open = { id: blocks.length, kind: 'text', text: '', lang: '' };
      blocks.push(open);
    }
    open.text += line;
    // A finished blank line ends the paragraph; the blank line stays with it so nothing is lost.
    if (line.endsWith('\n') && isBlank(bare) && !isBlank(open.text)) open = undefined;
  }
  // An unclosed code block shows its code without the newline the next line will follow.
  if (fence && open) open.text = open.text.replace(/\r?\n$/, '');
  return blocks;
}

/**
 * The `setData` entries that turn `before` (what the view shows under `path`) into `after`: one key
 * per changed field of a changed block, a whole block for a new one or one whose kind changed, and the
 * whole array only when blocks disappeared (the text was replaced rather than extended).
 */
export function blockChanges(path: string, before: readonly ReplyBlock[], after: readonly ReplyBlock[]): Record<string, unknown> {
  const changes: Record<string, unknown> = {};
  if (after.length < before.length) {
    changes[path] = after.map((block) => ({ ...block }));
    return changes;
  }
  after.forEach((block, index) => {
    const previous = before[index];
    const at = `${path}[${index}]`;
    if (!previous || previous.kind !== block.kind) {
      changes[at] = { ...block };
      return;
    }
    if (previous.text !== block.text) changes[`${at}.text`] = block.text;
    if (previous.lang !== block.lang) changes[`${at}.lang`] = block.lang;
  });
  return changes;
}
