/**
 * Makes the open block's half-typed Markdown look the way it will once the model closes it.
 *
 * `completeOpenMarkdown(src)` takes the source of the open region (it starts at a block boundary) and
 * returns the source to *display* — never to finish with: finished blocks are always rendered from the
 * real text. Two moves, both confined to the end of the text:
 * - close what is open: an unclosed `**`, `*`, `_`, `~~` run or backtick code span gets its closer
 *   appended (innermost first), so `**bo` shows as bold "bo", not as `**bo` that later jumps;
 * - hold back what cannot be shown yet: a link or image still being typed (`[te`, `[text]`, `![alt](ht`
 *   — a link whose target is being typed shows its text), `<https://…` before its `>`, a delimiter run or
 *   backslash at the very end, a line that may still become a setext underline, an ATX marker without
 *   its space, an opening/closing code fence line still being typed, and a table header line (with its
 *   partial delimiter row) until the delimiter row is complete.
 * Inside an open fenced code block nothing is completed (code is code). The scan is linear in the length
 * of the inline segment it looks at (the trailing paragraph lines), with a bounded number of re-scans.
 */

const FENCE_LINE = /^[ \t]*(?:>[ \t]*)*(?:(?:[-*+]|\d{1,9}[.)])[ \t]+)?(`{3,}|~{3,})([^\n]*)$/;
/** The block prefix of a line: quote markers, a list marker, a task box, an ATX heading marker. */
const LINE_PREFIX = /^[ \t]*(?:>[ \t]?)*(?:(?:[-*+]|\d{1,9}[.)])[ \t]+)?(?:\[[ xX]\][ \t]+)?(?:#{1,6}[ \t]+)?/;
const STARTS_BLOCK = /^[ \t]*(?:>|[-*+][ \t]|\d{1,9}[.)][ \t]|#{1,6}[ \t]|\||`{3,}|~{3,})/;
const TABLE_DELIMITER_PARTIAL = /^[ \t]*\|?[ \t]*:?-*[ \t]*:?[ \t]*(?:\|[ \t]*:?-*[ \t]*:?[ \t]*)*\|?[ \t]*$/;
const TABLE_DELIMITER = /^[ \t]*\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*$/;

interface OpenFence {
  char: string;
  length: number;
}

/** Whether the text ends inside a fenced code block (tracked line by line, CommonMark-style). */
function openFenceAt(lines: readonly string[]): OpenFence | undefined {
  let fence: OpenFence | undefined;
  for (const line of lines) {
    const match = FENCE_LINE.exec(line);
    if (!match) continue;
    const marker = match[1] ?? '';
    const info = match[2] ?? '';
    if (fence) {
      if (marker[0] === fence.char && marker.length >= fence.length && info.trim() === '') fence = undefined;
    } else if (!(marker[0] === '`' && info.includes('`'))) {
      fence = { char: marker[0] ?? '`', length: marker.length };
    }
  }
  return fence;
}

const isWhitespace = (ch: string): boolean => ch === '' || /\s/u.test(ch);
const isPunctuation = (ch: string): boolean => ch !== '' && /[\p{P}\p{S}]/u.test(ch);

interface Delimiter {
  char: string;
  count: number;
}

interface ScanResult {
  /** Unclosed emphasis/strikethrough openers, outermost first. */
  openers: Delimiter[];
  /** Length of an unclosed code span's backtick run, 0 if none. */
  codeRun: number;
  /** Cut the text here (hold back what follows) and scan again. */
  holdFrom?: number;
  /** A link whose target is being typed: show `text` — drop `[` at `open` and everything from `close`. */
  pendingLink?: { open: number; close: number };
}

/** One pass over an inline segment, CommonMark's delimiter rules simplified to what closing needs. */
function scanInline(text: string): ScanResult {
  const openers: Delimiter[] = [];
  const brackets: { at: number; image: boolean }[] = [];
  let codeRun = 0;
  let codeFrom = -1;
  let i = 0;
  while (i < text.length) {
    const ch = text[i] ?? '';
    if (codeRun > 0) {
      if (ch === '`') {
        let run = 1;
        while (text[i + run] === '`') run++;
        if (run === codeRun) codeRun = 0;
        i += run;
      } else i++;
      continue;
    }
    if (ch === '\\') {
      if (i === text.length - 1) return { openers, codeRun, holdFrom: i };
      i += 2;
      continue;
    }
    if (ch === '`') {
      let run = 1;
      while (text[i + run] === '`') run++;
      if (i + run === text.length) return { openers, codeRun, holdFrom: i };
      codeRun = run;
      codeFrom = i;
      i += run;
      continue;
    }
    if (ch === '<') {
      if (/^<[A-Za-z][A-Za-z0-9+.-]{1,31}:[^\s<>]*$/.test(text.slice(i)) || /^<[A-Za-z]{0,32}$/.test(text.slice(i))) {
        return { openers, codeRun, holdFrom: i };
      }
      i++;
      continue;
    }
    if (ch === '!' && text[i + 1] === '[') {
      brackets.push({ at: i, image: true });
      i += 2;
      continue;
    }
    if (ch === '[') {
      brackets.push({ at: i, image: false });
      i++;
      continue;
    }
    if (ch === ']') {
      const open = brackets.pop();
      if (open) {
        if (i === text.length - 1) return { openers, codeRun, holdFrom: open.at };
        if (text[i + 1] === '(') {
          const end = linkDestinationEnd(text, i + 2);
          if (end === -1) {
            return open.image ? { openers, codeRun, holdFrom: open.at } : { openers, codeRun, pendingLink: { open: open.at, close: i } };
          }
          i = end;
          continue;
        }
      }
      i++;
      continue;
    }
    if (ch === '*' || ch === '_' || ch === '~') {
      let run = 1;
      while (text[i + run] === ch) run++;
      if (i + run === text.length) return { openers, codeRun, holdFrom: i };
      const before = i === 0 ? '' : Array.from(text.slice(Math.max(0, i - 2), i)).pop() ?? '';
      const after = String.fromCodePoint(text.codePointAt(i + run) ?? 32);
      const left = !isWhitespace(after) && (!isPunctuation(after) || isWhitespace(before) || isPunctuation(before));
      const right = !isWhitespace(before) && (!isPunctuation(before) || isWhitespace(after) || isPunctuation(after));
      const canClose = right && (ch !== '_' || !left || isPunctuation(after));
      if (canClose && openers.some((o) => o.char === ch)) {
        // Close back to the matching opener (inner unmatched openers are dropped, as CommonMark does).
        while (openers.length > 0 && openers[openers.length - 1]?.char !== ch) openers.pop();
        const match = openers[openers.length - 1];
        if (match) {
          if (run >= match.count) openers.pop();
          else match.count -= run;
        }
      } else if (left && (ch === '*' || !right) && (ch !== '~' || run <= 2)) {
        // `*` may open inside a word (Chinese has no spaces: 回复**一下**); `_` and `~` may not.
        openers.push({ char: ch, count: ch === '~' ? run : Math.min(run, 3) });
      }
      i += run;
      continue;
    }
    i++;
  }
  // An unclosed `[` not followed by more than a short tail may still become a link: hold it back.
  const pending = brackets[brackets.length - 1];
  if (pending && text.length - pending.at <= 200 && text.indexOf('\n', pending.at) === -1) return { openers, codeRun, holdFrom: pending.at };
  if (codeRun > 0 && codeFrom === text.length - codeRun) return { openers, codeRun: 0, holdFrom: codeFrom };
  return { openers, codeRun };
}

/** Index just past the `)` closing a link destination that starts at `from`, or -1 if not closed yet. */
function linkDestinationEnd(text: string, from: number): number {
  let depth = 0;
  for (let i = from; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\\') i++;
    else if (ch === '(') depth++;
    else if (ch === ')') {
      if (depth === 0) return i + 1;
      depth--;
    } else if (ch === '\n') return i;
  }
  return -1;
}

/** Closes the inline segment `text`: hold-backs applied, then closers appended before trailing spaces. */
function completeInline(text: string): string {
  let current = text;
  for (let pass = 0; pass < 8; pass++) {
    const result = scanInline(current);
    if (result.holdFrom !== undefined) {
      current = current.slice(0, result.holdFrom);
      continue;
    }
    if (result.pendingLink) {
      const { open, close } = result.pendingLink;
      current = current.slice(0, open) + current.slice(open + 1, close);
      continue;
    }
    const body = current.replace(/\s+$/u, '');
    if (result.codeRun === 0 && result.openers.length === 0) return current;
    let closers = '`'.repeat(result.codeRun);
    for (let k = result.openers.length - 1; k >= 0; k--) {
      const opener = result.openers[k];
      if (opener) closers += opener.char.repeat(opener.count);
    }
    return body + closers + current.slice(body.length);
  }
  return current;
}

function splitLines(src: string): string[] {
  return src.split('\n');
}

export function completeOpenMarkdown(src: string): string {
  if (src === '') return src;
  const lines = splitLines(src);
  const last = lines[lines.length - 1] ?? '';
  const completeLines = lines.slice(0, -1);
  const fence = openFenceAt(completeLines);
  const head = src.slice(0, src.length - last.length);

  if (fence) {
    // A closing fence being typed would show as code for a moment: hold the line back.
    const closing = new RegExp(`^[ \\t]*(?:>[ \\t]*)*\\${fence.char}+[ \\t]*$`);
    return last !== '' && closing.test(last) ? head : src;
  }
  // An opening fence line still being typed (its language may grow): hold it back.
  if (FENCE_LINE.test(last) || /^[ \t]*(?:>[ \t]*)*(?:(?:[-*+]|\d{1,9}[.)])[ \t]+)?(?:`{1,2}|~{1,2})$/.test(last)) return head;
  // `-`/`=` alone may become a setext underline or a rule; `#` without its space may not be a heading.
  // A list marker with nothing after it yet cannot interrupt a paragraph: it would show as text.
  // So would a task box with nothing after it.
  if (/^[ \t]*(?:>[ \t]*)*(?:[-*+]|\d{1,9}[.)])(?:[ \t]+\[[ xX]\])?[ \t]*$/.test(last)) return head;
  if (/^ {0,3}(?:-+|=+)[ \t]*$/.test(last) || /^[ \t]*(?:>[ \t]*)*#{1,6}$/.test(last)) return head;

  const held = holdTableHeader(completeLines, last);
  if (held !== undefined) return src.slice(0, held);

  // The inline segment: trailing paragraph lines back to the line that starts the block.
  let start = lines.length - 1;
  while (start > 0) {
    const line = lines[start] ?? '';
    const previous = lines[start - 1] ?? '';
    if (line.trim() === '' && start < lines.length - 1) break;
    if (STARTS_BLOCK.test(line) || previous.trim() === '') break;
    start--;
  }
  while (start < lines.length - 1 && (lines[start] ?? '').trim() === '') start++;
  const segmentStart = src.length - lines.slice(start).join('\n').length;
  const firstLine = lines[start] ?? '';
  const prefix = LINE_PREFIX.exec(firstLine)?.[0] ?? '';
  const inlineStart = segmentStart + prefix.length;
  return src.slice(0, inlineStart) + completeInline(src.slice(inlineStart));
}

/**
 * Where to cut so that a table header without its complete delimiter row is not shown as text:
 * the start of the header line, or undefined when no table header is pending.
 */
function holdTableHeader(completeLines: readonly string[], last: string): number | undefined {
  const n = completeLines.length;
  const line = (index: number): string => completeLines[index] ?? '';
  const offsetOfLine = (index: number): number => {
    let offset = 0;
    for (let k = 0; k < index; k++) offset += line(k).length + 1;
    return offset;
  };
  /** Line `index` belongs to a table already: it is a delimiter row under a piped line, or a row below one. */
  const isTableLine = (index: number): boolean => {
    for (let k = index; k >= 0; k--) {
      if (TABLE_DELIMITER.test(line(k)) && k > 0 && line(k - 1).includes('|')) return true;
      if (!line(k).includes('|')) return false;
    }
    return false;
  };
  if (n > 0 && isTableLine(n - 1)) return undefined;
  const previous = n > 0 ? line(n - 1) : '';
  if (previous.includes('|') && TABLE_DELIMITER_PARTIAL.test(last)) {
    const complete = TABLE_DELIMITER.test(last) && cellCount(last) === cellCount(previous);
    return complete ? undefined : offsetOfLine(n - 1);
  }
  return last.includes('|') ? offsetOfLine(n) : undefined;
}

function cellCount(row: string): number {
  return row.trim().replace(/^\|/, '').replace(/\|$/, '').split('|').length;
}
