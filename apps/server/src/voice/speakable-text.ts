/**
 * Turns streaming markdown into the text a voice should read: markup, code, links' targets, URLs
 * and emoji are left out, whitespace is normalised.
 *
 * Contract: `SpeakableText.push(markdown)` returns the speakable text the markdown so far decides,
 * `end()` the rest; the concatenation of everything returned, with trailing whitespace removed, is
 * `speakableText(whole)` however the markdown was cut into pieces (the filter waits whenever a
 * decision needs characters that have not arrived, and never treats the end of a piece as the end
 * of a line). A piece may end anywhere, even between the halves of a surrogate pair.
 *
 * Normalised whitespace, precisely: no whitespace at the start; each run of whitespace that holds
 * a line break becomes one `\n`, each other run one space. `speakableText` also has no whitespace
 * at the end; a stream may end with one pending `\n` (consumers trim).
 *
 * What is not spoken:
 * - fenced code blocks (``` or ~~~, any indentation, also inside quotes and lists) from the
 *   opening fence to the closing one — an opened fence silences everything after it until it
 *   closes, or to the end when it never does (CommonMark's rule, and what a half-streamed block is);
 * - inline code spans (a backtick run closed by a run of the same length on the same line, or for
 *   runs of three or more within the same paragraph; an unclosed run is a literal backtick, which
 *   is not spoken either);
 * - heading, quote, list and task-box markers, thematic breaks, setext underlines, table
 *   delimiter rows and the pipes between table cells (read as spaces);
 * - emphasis and strikethrough markers (`*`, `~~`, `_` at word edges; `_` inside a word reads as
 *   a space, so `snake_case` is two words);
 * - link targets (`[text](url)` reads `text`), reference labels, footnote references, whole
 *   images, HTML tags and autolinks (read as a space), bare URLs (`http://` and `https://`
 *   anywhere, `www.` at a word start; trailing punctuation stays in the sentence);
 * - emoji (see emoji.ts) and backslashes of escapes (the escaped character is kept).
 */
import { isUnspokenSymbol } from './emoji.ts';

type Fence = { readonly marker: '`' | '~'; readonly length: number };

const LINE_BREAKS = new Set(['\n', '\r', '\u2028', '\u2029']);
const ASCII_PUNCTUATION = /^[!-/:-@[-`{-~]$/;
const WORD_CHAR = /^[\p{L}\p{N}]$/u;
const URL_CHAR = /^[A-Za-z0-9\-._~:/?#@!$&'()*+,;=%]$/;
const URL_TRAILING = new Set(['?', '!', '.', ',', ':', ';', '*', '_', '~', "'"]);
const URL_PREFIXES = ['http://', 'https://', 'www.'];
const STRUCTURAL_LINE = /^[-*_=|: \t]*$/;
const THEMATIC_OR_SETEXT = /^[ \t]*(?:([-*_])[ \t]*(?:\1[ \t]*){2,}|=+[ \t]*|-+[ \t]*)$/;
const TABLE_DELIMITER = /^[ \t]*\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*$/;
const HTML_TAG_OR_AUTOLINK = /^<(?:[A-Za-z][A-Za-z0-9.+-]{1,31}:[^\s<>]*|\/?[A-Za-z][A-Za-z0-9-]*(?:[ \t/][^<>\n]*)?)>$/;
/** A line break followed by a blank line (or by the end of what has arrived): a paragraph may end. */
const BLANK_LINE = /\n[ \t]*(\n|$)/y;
/** Longest HTML tag or autolink we wait for; past this a `<` is just a character. */
const MAX_TAG_CHARS = 256;

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function isWordChar(ch: string | undefined): boolean {
  return ch !== undefined && WORD_CHAR.test(ch);
}

function isClosingFence(line: string, fence: Fence): boolean {
  const match = /^[ \t>]*(`{3,}|~{3,})[ \t\r]*$/.exec(line);
  const run = match?.[1];
  return run !== undefined && run[0] === fence.marker && run.length >= fence.length;
}

/** Collapses whitespace as it streams: see the module contract. */
class WhitespaceNormaliser {
  #started = false;
  /** `space`: a space is owed before the next character; `newline`: a `\n` was just written. */
  #pending: 'none' | 'space' | 'newline' = 'none';
  out = '';

  write(text: string): void {
    for (const ch of text) {
      if (LINE_BREAKS.has(ch)) {
        if (this.#started && this.#pending !== 'newline') this.out += '\n';
        this.#pending = 'newline';
      } else if (/^\s$/.test(ch)) {
        if (this.#pending === 'none') this.#pending = 'space';
      } else {
        if (this.#pending === 'space' && this.#started) this.out += ' ';
        this.#pending = 'none';
        this.#started = true;
        this.out += ch;
      }
    }
  }

  take(): string {
    const text = this.out;
    this.out = '';
    return text;
  }
}

export class SpeakableText {
  /** Markdown received and not yet decided; `#pos` is where deciding resumes within it. */
  #buffer = '';
  #pos = 0;
  /** True until the first character of the current line that is not a block marker. */
  #lineStart = true;
  /** The open code fence, while inside one: everything is silent until its closing line. */
  #fence: Fence | undefined;
  /** The last markdown character consumed on this line (word-boundary checks look at it). */
  #prev: string | undefined;
  #ended = false;
  readonly #out = new WhitespaceNormaliser();

  /** Feeds the next piece of markdown; returns the speakable text it settles. */
  push(markdown: string): string {
    if (this.#ended) throw new Error('SpeakableText: push after end');
    this.#buffer += markdown;
    this.#run(false);
    return this.#out.take();
  }

  /** Ends the markdown; returns the speakable text still held back. */
  end(): string {
    if (this.#ended) return '';
    this.#ended = true;
    this.#run(true);
    return this.#out.take();
  }

  /** True while an opened code fence has not closed (what is arriving is not spoken). */
  get inCodeBlock(): boolean {
    return this.#fence !== undefined;
  }

  #run(final: boolean): void {
    while (this.#pos < this.#buffer.length) {
      const progressed = this.#fence !== undefined ? this.#fenceLine(final) : this.#lineStart ? this.#blockStart(final) : this.#inline(final);
      if (!progressed) break;
    }
    this.#buffer = this.#buffer.slice(this.#pos);
    this.#pos = 0;
  }

  #consume(count: number): void {
    this.#prev = this.#buffer.charAt(this.#pos + count - 1);
    this.#pos += count;
  }

  #emit(text: string): void {
    this.#out.write(text);
  }

  /** The rest of the current line from `#pos`, and whether its end (or the input's) is known. */
  #restOfLine(final: boolean): { line: string; complete: boolean; hasBreak: boolean } {
    const newline = this.#buffer.indexOf('\n', this.#pos);
    if (newline === -1) return { line: this.#buffer.slice(this.#pos), complete: final, hasBreak: false };
    return { line: this.#buffer.slice(this.#pos, newline), complete: true, hasBreak: true };
  }

  /** Inside a fence, whole lines are read, so a closing fence is recognised before it is skipped. */
  #fenceLine(final: boolean): boolean {
    const fence = this.#fence;
    if (fence === undefined) return true;
    const { line, complete, hasBreak } = this.#restOfLine(final);
    if (!complete) return false;
    if (isClosingFence(line, fence)) {
      this.#fence = undefined;
      this.#emit('\n');
    }
    this.#consume(line.length + (hasBreak ? 1 : 0));
    this.#lineStart = true;
    return true;
  }

  /** Runs of `ch` starting at `at`; `undefined` when the run reaches the end of what has arrived. */
  #runLength(at: number, ch: string, final: boolean): number | undefined {
    let end = at;
    while (end < this.#buffer.length && this.#buffer.charAt(end) === ch) end++;
    if (end === this.#buffer.length && !final) return undefined;
    return end - at;
  }

  /** Block markers at the start of a line: indentation, quotes, fences, headings, lists, rules. */
  #blockStart(final: boolean): boolean {
    const buffer = this.#buffer;
    const ch = buffer.charAt(this.#pos);
    if (ch === ' ' || ch === '\t' || ch === '\r') {
      this.#consume(1);
      return true;
    }
    if (ch === '\n') {
      this.#emit('\n');
      this.#consume(1);
      return true;
    }
    if (ch === '>') {
      this.#consume(1);
      return true;
    }
    if (ch === '`' || ch === '~') {
      const run = this.#runLength(this.#pos, ch, final);
      if (run === undefined) return false;
      if (run >= 3) {
        this.#fence = { marker: ch, length: run };
        this.#consume(run);
        return true;
      }
      this.#lineStart = false;
      return true;
    }
    if (ch === '#') {
      const run = this.#runLength(this.#pos, '#', final);
      if (run === undefined) return false;
      const after = buffer.charAt(this.#pos + run);
      if (after === '' && !final) return false;
      if (run <= 6 && (after === '' || after === ' ' || after === '\t' || after === '\n' || after === '\r')) this.#consume(run);
      this.#lineStart = false;
      return true;
    }
    const { line, complete, hasBreak } = this.#restOfLine(final);
    if (STRUCTURAL_LINE.test(line)) {
      if (!complete) return false;
      if (THEMATIC_OR_SETEXT.test(line) || TABLE_DELIMITER.test(line)) {
        this.#consume(line.length + (hasBreak ? 1 : 0));
        this.#emit('\n');
        return true;
      }
    }
    const marker = this.#listMarker(line, complete);
    if (marker === undefined) return false;
    if (marker > 0) this.#consume(marker);
    this.#lineStart = false;
    return true;
  }

  /**
   * Length of a list marker (with its spaces and any task box) at the start of `line`, 0 when
   * there is none, `undefined` when the characters that decide it have not arrived.
   */
  #listMarker(line: string, complete: boolean): number | undefined {
    const bullet = /^(?:[-*+]|\d{1,9}[.)])(?=[ \t]|$)/.exec(line);
    if (bullet === null) {
      // "12" or "1." may still become a marker, "-" may still be followed by a space.
      return !complete && /^(?:[-*+]|\d{1,9}[.)]?)$/.test(line) ? undefined : 0;
    }
    const afterBullet = line.slice(bullet[0].length);
    if (afterBullet === '' && !complete) return undefined;
    const spaces = /^[ \t]*/.exec(afterBullet)?.[0].length ?? 0;
    const rest = afterBullet.slice(spaces);
    const length = bullet[0].length + spaces;
    // A task box may still follow the marker: "[", "[x", "[ ]" are undecided until the next character.
    if (!complete && (rest === '' || /^\[(?:[ xX]\]?)?$/.test(rest))) return undefined;
    const task = /^\[[ xX]\](?=[ \t]|$)/.exec(rest);
    if (task !== null) return length + task[0].length;
    return length;
  }

  #inline(final: boolean): boolean {
    const buffer = this.#buffer;
    const pos = this.#pos;
    const ch = buffer.charAt(pos);
    const next: string | undefined = pos + 1 < buffer.length ? buffer.charAt(pos + 1) : undefined;
    const needNext = next === undefined && !final;

    switch (ch) {
      case '\n':
        this.#emit('\n');
        this.#consume(1);
        this.#lineStart = true;
        this.#prev = undefined;
        return true;
      case '`':
        return this.#codeSpan(final);
      case '\\':
        if (needNext) return false;
        if (next !== undefined && next !== '\n' && ASCII_PUNCTUATION.test(next)) {
          this.#emit(next);
          this.#consume(2);
        } else {
          this.#consume(1);
        }
        return true;
      case '*':
        this.#consume(1);
        return true;
      case '~': {
        const run = this.#runLength(pos, '~', final);
        if (run === undefined) return false;
        if (run === 1) this.#emit('~');
        this.#consume(run);
        return true;
      }
      case '_': {
        if (needNext) return false;
        if (isWordChar(this.#prev) && isWordChar(next)) this.#emit(' ');
        this.#consume(1);
        return true;
      }
      case '[':
        if (needNext) return false;
        if (next === '^') return this.#skipBracketed(pos + 1, final, 1);
        this.#consume(1);
        return true;
      case ']':
        if (needNext) return false;
        if (next === '(') return this.#skipDestination(pos + 1, final);
        if (next === '[') return this.#skipBracketed(pos + 1, final, 1);
        this.#consume(1);
        return true;
      case '!':
        if (needNext) return false;
        if (next === '[') return this.#image(final);
        this.#emit('!');
        this.#consume(1);
        return true;
      case '<':
        return this.#tag(final);
      case '|':
        this.#emit(' ');
        this.#consume(1);
        return true;
      default:
        break;
    }

    if (ch === 'h' || ch === 'H' || ch === 'w' || ch === 'W') {
      const url = this.#urlLength(final);
      if (url === undefined) return false;
      if (url > 0) {
        this.#consume(url);
        return true;
      }
    }

    const code = buffer.charCodeAt(pos);
    if (isHighSurrogate(code) && needNext) return false;
    const codePoint = buffer.codePointAt(pos) ?? code;
    const width = codePoint > 0xffff ? 2 : 1;
    if (!isUnspokenSymbol(codePoint)) this.#emit(buffer.slice(pos, pos + width));
    this.#consume(width);
    return true;
  }

  /**
   * A code span is silent; an unclosed backtick run is dropped alone. A run of one or two
   * backticks must close on its line; a run of three or more mid-line (a fence some models write
   * straight after text, `例如：```js`) may close on a later line of the same paragraph.
   */
  #codeSpan(final: boolean): boolean {
    const buffer = this.#buffer;
    const open = this.#runLength(this.#pos, '`', final);
    if (open === undefined) return false;
    let at = this.#pos + open;
    while (at < buffer.length) {
      const ch = buffer.charAt(at);
      if (ch === '\n') {
        if (open < 3) break;
        BLANK_LINE.lastIndex = at;
        const blank = BLANK_LINE.exec(buffer);
        if (blank !== null && (blank[1] === '\n' || final)) break;
        if (blank !== null && !final) return false;
      }
      if (ch !== '`') {
        at++;
        continue;
      }
      const run = this.#runLength(at, '`', final);
      if (run === undefined) return false;
      if (run === open) {
        this.#emit(' ');
        this.#consume(at + run - this.#pos);
        return true;
      }
      at += run;
    }
    if (at === buffer.length && !final) return false;
    this.#consume(open);
    return true;
  }

  /** Skips `[...]` starting at `from` (a `[`), on this line; a bracket left open is dropped alone. */
  #skipBracketed(from: number, final: boolean, keepIfUnclosed: number): boolean {
    const buffer = this.#buffer;
    for (let at = from + 1; at < buffer.length; at++) {
      const ch = buffer.charAt(at);
      if (ch === '\n') break;
      if (ch === ']') {
        this.#consume(at + 1 - this.#pos);
        return true;
      }
    }
    if (!final && buffer.indexOf('\n', from) === -1) return false;
    this.#consume(keepIfUnclosed);
    return true;
  }

  /** Skips a link destination `(...)` starting at `from`, with nested parentheses, on this line. */
  #skipDestination(from: number, final: boolean): boolean {
    const end = this.#destinationEnd(from, final);
    if (end === undefined) return false;
    this.#consume(end === -1 ? 1 : end - this.#pos);
    return true;
  }

  /** Index after the `)` closing the `(` at `from`; -1 when it does not close on this line. */
  #destinationEnd(from: number, final: boolean): number | undefined {
    const buffer = this.#buffer;
    let depth = 0;
    for (let at = from; at < buffer.length; at++) {
      const ch = buffer.charAt(at);
      if (ch === '\n') return -1;
      if (ch === '(') depth++;
      else if (ch === ')' && --depth === 0) return at + 1;
    }
    return final ? -1 : undefined;
  }

  /** `![alt](src)` is silent as a whole; without that shape the `!` is an ordinary character. */
  #image(final: boolean): boolean {
    const buffer = this.#buffer;
    for (let at = this.#pos + 2; at < buffer.length; at++) {
      const ch = buffer.charAt(at);
      if (ch === '\n') break;
      if (ch !== ']') continue;
      if (at + 1 === buffer.length) {
        if (!final) return false;
        break;
      }
      if (buffer.charAt(at + 1) !== '(') break;
      const end = this.#destinationEnd(at + 1, final);
      if (end === undefined) return false;
      if (end === -1) break;
      this.#consume(end - this.#pos);
      return true;
    }
    if (!final && buffer.indexOf('\n', this.#pos) === -1 && buffer.indexOf(']', this.#pos) === -1) return false;
    this.#emit('!');
    this.#consume(1);
    return true;
  }

  /** An HTML tag or autolink reads as a space; any other `<` is an ordinary character. */
  #tag(final: boolean): boolean {
    const buffer = this.#buffer;
    const first = buffer.charAt(this.#pos + 1);
    if (first === '' && !final) return false;
    if (!/^[A-Za-z/]$/.test(first)) {
      this.#emit('<');
      this.#consume(1);
      return true;
    }
    const limit = Math.min(buffer.length, this.#pos + MAX_TAG_CHARS);
    for (let at = this.#pos + 1; at < limit; at++) {
      const ch = buffer.charAt(at);
      if (ch === '\n' || ch === '<') break;
      if (ch === '>') {
        if (HTML_TAG_OR_AUTOLINK.test(buffer.slice(this.#pos, at + 1))) {
          this.#emit(' ');
          this.#consume(at + 1 - this.#pos);
          return true;
        }
        break;
      }
      if (at === limit - 1 && limit === buffer.length && !final) return false;
    }
    this.#emit('<');
    this.#consume(1);
    return true;
  }

  /**
   * Length of a bare URL starting here (0 when there is none), `undefined` while undecided. The
   * URL ends at the first character that cannot be in one; trailing punctuation and an unbalanced
   * `)` are left to the sentence (GFM's autolink rule).
   */
  #urlLength(final: boolean): number | undefined {
    const buffer = this.#buffer;
    const head = buffer.slice(this.#pos, this.#pos + 8).toLowerCase();
    let matched = false;
    for (const prefix of URL_PREFIXES) {
      if (head.startsWith(prefix)) matched = true;
      else if (!final && head.length < prefix.length && prefix.startsWith(head)) return undefined;
    }
    // A scheme is distinctive wherever it starts (Chinese text runs straight into URLs); `www.`
    // only counts at the start of a word, so `awww.` stays text.
    if (!matched || (head.startsWith('www.') && /^[A-Za-z0-9]$/.test(this.#prev ?? ''))) return 0;
    let end = this.#pos;
    while (end < buffer.length && URL_CHAR.test(buffer.charAt(end))) end++;
    if (end === buffer.length && !final) return undefined;
    let opens = 0;
    let closes = 0;
    for (let at = this.#pos; at < end; at++) {
      const ch = buffer.charAt(at);
      if (ch === '(') opens++;
      else if (ch === ')') closes++;
    }
    while (end > this.#pos) {
      const last = buffer.charAt(end - 1);
      if (URL_TRAILING.has(last)) {
        end--;
      } else if (last === ')' && closes > opens) {
        closes--;
        end--;
      } else {
        break;
      }
    }
    return end - this.#pos;
  }
}

/** The speakable form of a whole markdown text (see the module contract). */
export function speakableText(markdown: string): string {
  const filter = new SpeakableText();
  return (filter.push(markdown) + filter.end()).replace(/\s+$/, '');
}
