/**
 * Cuts a streaming reply into speakable segments as it arrives, so speech can start when the
 * first sentence is complete instead of when the reply is.
 *
 * Contract: `push(markdownDelta)` returns the segments the reply so far completes, in order, with
 * indices 0, 1, 2 …; `flush()` returns the rest at the end and spends the segmenter.
 * `flushStalled()` is for the caller to invoke when no delta has arrived for a while (the model is
 * thinking mid-sentence): it releases what is pending up to its last natural break, so a pause in
 * the text does not become silence. Without stall flushes, where segments end depends only on the
 * text, never on how it was cut into deltas.
 *
 * Input is markdown; reasoning must never be pushed. What is spoken is `speakableText(markdown)`
 * (see speakable-text.ts: code, markup, URLs and emoji are left out, whitespace normalised), and
 * the segments are exactly that text cut into pieces: each segment's text is a slice of it with
 * the whitespace at the cut removed, no segment is empty, and none is longer than `maxChars`
 * UTF-16 code units (a cut never splits a surrogate pair).
 *
 * Where segments end, in order of preference:
 * - at a sentence end — after a run of `。！？；…` (with any closing quotes or brackets), after a
 *   run of `.!?` followed by whitespace (so `3.14`, `e.g.` and common abbreviations such as `Mr.`
 *   or a single initial do not end a sentence), or at a line break — once the segment holds at
 *   least `minChars` (shorter pieces, like a two-character heading, are merged into the next);
 * - for the first segment only, also at a comma (`，`、 or `,` before whitespace) once it holds at
 *   least `firstCommaChars`, so the first words are heard before a long first sentence ends;
 * - when `maxChars` pass without such an end: at the last space or punctuation mark within
 *   `maxChars` (leaving at least `minChars`), else hard at `maxChars`.
 * A sentence end is known only once the character after it has arrived (`。` may yet be followed
 * by `」`), so the last sentence of a reply waits for `flush` or a stall flush.
 */
import { SpeakableText } from './speakable-text.ts';

export { speakableText } from './speakable-text.ts';

export interface SpeechSegment {
  /** 0, 1, 2 … in the order the segments are spoken. */
  readonly index: number;
  /** What to say: trimmed, whitespace normalised, never empty. */
  readonly text: string;
}

export interface SpeechSegmenterOptions {
  /** Longest segment in UTF-16 code units, at least 8. Default 150. */
  readonly maxChars?: number;
  /** Shortest segment worth ending at a sentence end, 1…maxChars. Default 6. */
  readonly minChars?: number;
  /** Length from which the first segment may end at a comma, minChars…maxChars. Default 10. */
  readonly firstCommaChars?: number;
}

export const DEFAULT_SEGMENT_MAX_CHARS = 150;
export const DEFAULT_SEGMENT_MIN_CHARS = 6;
export const DEFAULT_FIRST_COMMA_CHARS = 10;

/**
 * Where the scanner is relative to a possible segment end:
 * - `text`: inside a sentence;
 * - `strongRun`: after a run holding a Chinese terminator (and any closers) — the next other
 *   character, whitespace or not, ends the sentence before it;
 * - `weakRun`: after a run of `.!?` only — whitespace next ends the sentence, anything else does not;
 * - `strongComma` / `weakComma`: the same two rules for commas (first segment only).
 */
type ScanState = 'text' | 'strongRun' | 'weakRun' | 'strongComma' | 'weakComma';

/** A known place a segment may end: content ends before `at` (absolute offset). */
interface Boundary {
  readonly at: number;
  readonly comma: boolean;
}

const STRONG_TERMINATORS = new Set(['。', '！', '？', '；', '…', '．']);
const WEAK_TERMINATORS = new Set(['.', '!', '?']);
const STRONG_COMMAS = new Set(['，', '、']);
const CLOSERS = new Set(['"', "'", '”', '’', '」', '』', '）', ')', '】', '》', '〉', ']', '〕']);
/** Words that end in a period without ending the sentence; compared lower-case, inner dots kept. */
const ABBREVIATIONS = new Set([
  'mr', 'mrs', 'ms', 'dr', 'prof', 'sr', 'jr', 'st', 'mt', 'vs', 'etc', 'cf', 'al', 'ca', 'approx',
  'no', 'nos', 'fig', 'figs', 'vol', 'p', 'pp', 'ch', 'sec', 'eq', 'ed', 'dept', 'est', 'inc', 'ltd',
  'co', 'corp', 'jan', 'feb', 'mar', 'apr', 'jun', 'jul', 'aug', 'sep', 'sept', 'oct', 'nov', 'dec',
]);
/** Letters and dots at the end of the word before a period: `e.g`, `U.S`, `Mr`. */
const WORD_TAIL = /[A-Za-z.]+$/;
const PUNCTUATION = /^[\p{P}\p{S}]$/u;
const CJK = /^[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\u3000-\u303f\uff00-\uffef]$/u;
/** The word tracker never needs more than this to recognise an abbreviation. */
const MAX_TRACKED_WORD = 16;

function isWhitespace(ch: string): boolean {
  return ch === ' ' || ch === '\n';
}

function isAbbreviation(word: string): boolean {
  const tail = WORD_TAIL.exec(word)?.[0].replace(/^\.+/, '').toLowerCase();
  if (tail === undefined || tail === '') return false;
  return ABBREVIATIONS.has(tail) || /^[a-z]$/.test(tail) || /^(?:[a-z]\.)+[a-z]$/.test(tail);
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

function integerOption(name: string, value: number, min: number, max: number): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer between ${min} and ${max}, got ${value}`);
  }
  return value;
}

export class SpeechSegmenter {
  readonly #maxChars: number;
  readonly #minChars: number;
  readonly #firstCommaChars: number;
  readonly #speakable = new SpeakableText();
  /** Speakable text not yet emitted; its first character is at absolute offset `#start`. */
  #pending = '';
  #start = 0;
  /** Absolute offset of the next character to scan (= speakable characters received so far). */
  #scanned = 0;
  #state: ScanState = 'text';
  /** The current word (since the last whitespace), for the abbreviation check; capped. */
  #word = '';
  /** The word before the `.` that opened the current weak run (undefined: not a lone `.`). */
  #wordBeforePeriod: string | undefined;
  /** Known boundaries in ascending order; those before `#firstBoundary` are spent. */
  #boundaries: Boundary[] = [];
  #firstBoundary = 0;
  #nextIndex = 0;
  #flushed = false;

  constructor(options: SpeechSegmenterOptions = {}) {
    this.#maxChars = integerOption('maxChars', options.maxChars ?? DEFAULT_SEGMENT_MAX_CHARS, 8, 1_000_000);
    this.#minChars = integerOption('minChars', options.minChars ?? Math.min(DEFAULT_SEGMENT_MIN_CHARS, this.#maxChars), 1, this.#maxChars);
    this.#firstCommaChars = integerOption(
      'firstCommaChars',
      options.firstCommaChars ?? Math.min(Math.max(DEFAULT_FIRST_COMMA_CHARS, this.#minChars), this.#maxChars),
      this.#minChars,
      this.#maxChars,
    );
  }

  /** True while speakable text has arrived that no segment holds yet (what a stall flush would release). */
  get hasPending(): boolean {
    return this.#pending.trim() !== '';
  }

  /**
   * Whether the pending text ends with a Chinese sentence end (and any closers): the sentence is
   * over unless a closer follows, so a caller may release it after a short quiet instead of
   * waiting for the next character. `.!?` do not count: `3.` may yet become `3.14`.
   */
  get pendingEndsSentence(): boolean {
    let at = this.#pending.replace(/\s+$/, '').length - 1;
    while (at >= 0 && CLOSERS.has(this.#pending.charAt(at))) at--;
    return at >= 0 && STRONG_TERMINATORS.has(this.#pending.charAt(at));
  }

  /** Feeds the next piece of the reply's markdown; returns the segments it completes. */
  push(markdownDelta: string): SpeechSegment[] {
    if (this.#flushed) throw new Error('SpeechSegmenter: push after flush');
    this.#append(this.#speakable.push(markdownDelta));
    return this.#drain(false);
  }

  /** Ends the reply; returns the remaining segments. */
  flush(): SpeechSegment[] {
    if (this.#flushed) return [];
    this.#append(this.#speakable.end());
    this.#flushed = true;
    return this.#drain(true);
  }

  /**
   * Releases pending text after a quiet period: up to the last space or punctuation mark, or all
   * of it when it ends in Chinese (or Japanese, Korean) text where any character is a fair place to
   * pause. Nothing shorter than `minChars` is released, and never half a Latin word.
   */
  flushStalled(): SpeechSegment[] {
    if (this.#flushed) return [];
    const pending = this.#pending.replace(/\s+$/, '');
    if (pending.length < this.#minChars) return [];
    const last = pending.slice(-1);
    let end = CJK.test(last) || PUNCTUATION.test(last) ? pending.length : this.#lastSoftBreak(pending.length - 1);
    if (end === undefined) return [];
    if (isHighSurrogate(pending.charCodeAt(end - 1))) end--;
    const segment = this.#take(end);
    return segment === undefined ? [] : [segment];
  }

  #append(text: string): void {
    if (text === '') return;
    this.#scan(text);
    this.#pending += text;
    // A segment never starts with whitespace.
    if (this.#pending.length > 0 && isWhitespace(this.#pending.charAt(0))) this.#skipLeadingWhitespace();
  }

  #scan(text: string): void {
    let state = this.#state;
    for (let i = 0; i < text.length; i++) {
      const ch = text.charAt(i);
      const position = this.#scanned + i;
      const whitespace = isWhitespace(ch);
      if (ch === '\n') {
        this.#addBoundary(position, false);
        state = 'text';
      } else if (state === 'strongRun' && !STRONG_TERMINATORS.has(ch) && !WEAK_TERMINATORS.has(ch) && !CLOSERS.has(ch)) {
        this.#addBoundary(position, false);
        state = 'text';
      } else if (state === 'weakRun') {
        if (whitespace) {
          if (this.#wordBeforePeriod === undefined || !isAbbreviation(this.#wordBeforePeriod)) this.#addBoundary(position, false);
          state = 'text';
        } else if (STRONG_TERMINATORS.has(ch)) {
          state = 'strongRun';
        } else if (WEAK_TERMINATORS.has(ch)) {
          this.#wordBeforePeriod = undefined;
        } else if (!CLOSERS.has(ch)) {
          state = 'text';
        }
      } else if (state === 'strongComma' && !CLOSERS.has(ch)) {
        this.#addBoundary(position, true);
        state = 'text';
      } else if (state === 'weakComma') {
        if (whitespace) this.#addBoundary(position, true);
        state = 'text';
      }

      if (state === 'text' && !whitespace) {
        if (STRONG_TERMINATORS.has(ch)) {
          state = 'strongRun';
        } else if (WEAK_TERMINATORS.has(ch)) {
          state = 'weakRun';
          this.#wordBeforePeriod = ch === '.' ? this.#word : undefined;
        } else if (STRONG_COMMAS.has(ch)) {
          state = 'strongComma';
        } else if (ch === ',') {
          state = 'weakComma';
        }
      }
      this.#word = whitespace ? '' : (this.#word + ch).slice(-MAX_TRACKED_WORD);
    }
    this.#state = state;
    this.#scanned += text.length;
  }

  #addBoundary(at: number, comma: boolean): void {
    if (at > this.#start) this.#boundaries.push({ at, comma });
  }

  #drain(final: boolean): SpeechSegment[] {
    const segments: SpeechSegment[] = [];
    for (;;) {
      const length = this.#nextSegmentLength(final);
      if (length === undefined) return segments;
      const segment = this.#take(length);
      if (segment !== undefined) segments.push(segment);
    }
  }

  /** Length of the next segment (content, without the whitespace after it), or undefined for now. */
  #nextSegmentLength(final: boolean): number | undefined {
    const available = this.#pending.length;
    if (available === 0) return undefined;
    const first = this.#nextIndex === 0;
    for (let i = this.#firstBoundary; i < this.#boundaries.length; i++) {
      const boundary = this.#boundaries[i];
      if (boundary === undefined) break;
      const length = boundary.at - this.#start;
      if (length > this.#maxChars) break;
      if (length < this.#minChars) continue;
      if (!boundary.comma) return length;
      if (first && length >= this.#firstCommaChars) return length;
    }
    // Every boundary within maxChars is known once the character at maxChars has arrived.
    if (available > this.#maxChars) {
      const soft = this.#lastSoftBreak(this.#maxChars);
      if (soft !== undefined) return soft;
      const splitsPair = isHighSurrogate(this.#pending.charCodeAt(this.#maxChars - 1)) && isLowSurrogate(this.#pending.charCodeAt(this.#maxChars));
      return splitsPair ? this.#maxChars - 1 : this.#maxChars;
    }
    return final ? available : undefined;
  }

  /**
   * The longest prefix of at most `limit` characters (and at least `minChars`) that ends before a
   * space or after a punctuation mark — not inside a number such as `1,000` or `3.14`.
   */
  #lastSoftBreak(limit: number): number | undefined {
    const text = this.#pending;
    for (let end = limit; end >= this.#minChars; end--) {
      if (isWhitespace(text.charAt(end))) return end;
      const before = text.charAt(end - 1);
      if (!PUNCTUATION.test(before)) continue;
      if ((before === '.' || before === ',') && /\d/.test(text.charAt(end - 2)) && /\d/.test(text.charAt(end))) continue;
      return end;
    }
    return undefined;
  }

  #take(length: number): SpeechSegment | undefined {
    const text = this.#pending.slice(0, length).trim();
    this.#pending = this.#pending.slice(length);
    this.#start += length;
    this.#skipLeadingWhitespace();
    while (this.#firstBoundary < this.#boundaries.length && (this.#boundaries[this.#firstBoundary]?.at ?? 0) <= this.#start) {
      this.#firstBoundary++;
    }
    if (this.#firstBoundary > 256) {
      this.#boundaries = this.#boundaries.slice(this.#firstBoundary);
      this.#firstBoundary = 0;
    }
    if (text === '') return undefined;
    return { index: this.#nextIndex++, text };
  }

  #skipLeadingWhitespace(): void {
    let skip = 0;
    while (skip < this.#pending.length && isWhitespace(this.#pending.charAt(skip))) skip++;
    if (skip === 0) return;
    this.#pending = this.#pending.slice(skip);
    this.#start += skip;
  }
}
