/**
 * Cuts a streamed reply into pieces for the content check, at sentence or paragraph ends.
 *
 * Contract: `push(delta)` returns the segments the text so far completes, `flush()` the rest at
 * the end; after `flush` the segmenter is spent. The segments joined are exactly the input, none
 * is longer than `maxChars` UTF-16 code units (msgSecCheck takes at most 2,500 characters; code
 * units never undercount them), and none splits a surrogate pair. Where the segments end depends
 * only on the text, never on how it was split into deltas.
 *
 * Boundaries: after a run of terminators (`。！？；…` or `.!?`, with any closing quotes or brackets
 * after them) plus the whitespace after it, and after whitespace containing a line break. A run
 * without a Chinese terminator (`.!?` only) is a boundary only when whitespace follows, so `3.14`
 * and `example.com` are not sentence ends. A boundary is known only once the character after it
 * has arrived (`。` may yet be followed by `」`), so a reply's last sentence waits for `flush`.
 *
 * Each segment ends at the first boundary at least `minChars` into it, so a reply costs a few
 * checks instead of one per sentence (WeChat allows an app 4,000 a minute) and the detector sees
 * sentences in context. When no such boundary comes within `maxChars`, the segment ends at the
 * last boundary within `maxChars`, and failing that is cut hard at `maxChars`.
 */

/** msgSecCheck's limit on `content`: 2,500 characters. */
export const MSG_SEC_CHECK_MAX_CHARS = 2500;
/** A reply of ~1,000 characters costs about five checks; the first starts after ~200 characters. */
export const DEFAULT_MIN_SEGMENT_CHARS = 200;

export interface ReplyCheckSegmenterOptions {
  /** Longest segment, in UTF-16 code units; at least 2. Default 2,500. */
  readonly maxChars?: number;
  /** Shortest segment worth ending at a boundary, 0…maxChars. Default 200. */
  readonly minChars?: number;
}

/**
 * Where the scanner is relative to a possible boundary:
 * - `text`: inside a sentence;
 * - `strongRun`: after a terminator run holding a Chinese terminator — any other character ends it
 *   with a boundary before that character;
 * - `weakRun`: after a run of `.!?` only — a boundary only if whitespace follows;
 * - `space`: inside whitespace that ends a sentence or holds a line break — the next other
 *   character starts a new sentence, with a boundary before it.
 */
type ScanState = 'text' | 'strongRun' | 'weakRun' | 'space';

const STRONG_TERMINATORS = new Set(['。', '！', '？', '；', '…']);
const WEAK_TERMINATORS = new Set(['.', '!', '?']);
const CLOSERS = new Set(['"', "'", '”', '’', '」', '』', '）', ')', '】', '》', '〉', ']', '〕']);
const LINE_BREAKS = new Set(['\n', '\r', '\u2028', '\u2029']);
const SPACES = new Set([' ', '\t', '\f', '\v', '\u00a0', '\u3000']);

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

export class ReplyCheckSegmenter {
  readonly #maxChars: number;
  readonly #minChars: number;
  /** Text received and not yet emitted; its first character is at absolute offset `#start`. */
  #pending = '';
  #start = 0;
  /** Absolute offset of the next character to scan (= characters received so far). */
  #scanned = 0;
  #state: ScanState = 'text';
  /** Known boundaries (absolute offsets) in ascending order; those before `#firstBoundary` are spent. */
  #boundaries: number[] = [];
  #firstBoundary = 0;
  #flushed = false;

  constructor(options: ReplyCheckSegmenterOptions = {}) {
    const maxChars = options.maxChars ?? MSG_SEC_CHECK_MAX_CHARS;
    const minChars = options.minChars ?? Math.min(DEFAULT_MIN_SEGMENT_CHARS, maxChars);
    if (!Number.isSafeInteger(maxChars) || maxChars < 2) throw new RangeError(`maxChars must be an integer ≥ 2, got ${maxChars}`);
    if (!Number.isSafeInteger(minChars) || minChars < 0 || minChars > maxChars) {
      throw new RangeError(`minChars must be an integer between 0 and maxChars (${maxChars}), got ${minChars}`);
    }
    this.#maxChars = maxChars;
    this.#minChars = minChars;
  }

  /** Feeds the next piece of the reply; returns the segments it completes, in order. */
  push(delta: string): string[] {
    if (this.#flushed) throw new Error('ReplyCheckSegmenter: push after flush');
    if (delta === '') return [];
    this.#scan(delta);
    this.#pending += delta;
    return this.#drain(false);
  }

  /** Ends the reply; returns the remaining segments (none if everything was emitted). */
  flush(): string[] {
    if (this.#flushed) return [];
    this.#flushed = true;
    return this.#drain(true);
  }

  #scan(delta: string): void {
    let state = this.#state;
    for (let i = 0; i < delta.length; i++) {
      const ch = delta.charAt(i);
      const position = this.#scanned + i;
      const whitespace = SPACES.has(ch) || LINE_BREAKS.has(ch);
      if (state === 'space' && !whitespace) {
        this.#addBoundary(position);
        state = 'text';
      } else if (state === 'strongRun' && !whitespace && !STRONG_TERMINATORS.has(ch) && !WEAK_TERMINATORS.has(ch) && !CLOSERS.has(ch)) {
        this.#addBoundary(position);
        state = 'text';
      }
      switch (state) {
        case 'text':
          if (STRONG_TERMINATORS.has(ch)) state = 'strongRun';
          else if (WEAK_TERMINATORS.has(ch)) state = 'weakRun';
          else if (LINE_BREAKS.has(ch)) state = 'space';
          break;
        case 'strongRun':
          if (whitespace) state = 'space';
          break;
        case 'weakRun':
          if (STRONG_TERMINATORS.has(ch)) state = 'strongRun';
          else if (whitespace) state = 'space';
          else if (!WEAK_TERMINATORS.has(ch) && !CLOSERS.has(ch)) state = 'text';
          break;
        case 'space':
          break;
      }
    }
    this.#state = state;
    this.#scanned += delta.length;
  }

  #addBoundary(position: number): void {
    if (position > this.#start) this.#boundaries.push(position);
  }

  #drain(final: boolean): string[] {
    const segments: string[] = [];
    for (;;) {
      const length = this.#nextSegmentLength(final);
      if (length === undefined) return segments;
      segments.push(this.#take(length));
    }
  }

  /** Length of the next segment, or undefined until more text decides it. */
  #nextSegmentLength(final: boolean): number | undefined {
    const available = this.#pending.length;
    if (available === 0) return undefined;
    let lastWithinMax: number | undefined;
    for (let i = this.#firstBoundary; i < this.#boundaries.length; i++) {
      const length = (this.#boundaries[i] ?? 0) - this.#start;
      if (length > this.#maxChars) break;
      if (length >= this.#minChars) return length;
      lastWithinMax = length;
    }
    // Every boundary up to maxChars is known once the character at maxChars has arrived.
    if (available > this.#maxChars) {
      if (lastWithinMax !== undefined) return lastWithinMax;
      const hardCut = this.#maxChars;
      const splitsPair = isHighSurrogate(this.#pending.charCodeAt(hardCut - 1)) && isLowSurrogate(this.#pending.charCodeAt(hardCut));
      return splitsPair ? hardCut - 1 : hardCut;
    }
    return final ? available : undefined;
  }

  #take(length: number): string {
    const segment = this.#pending.slice(0, length);
    this.#pending = this.#pending.slice(length);
    this.#start += length;
    while (this.#firstBoundary < this.#boundaries.length && (this.#boundaries[this.#firstBoundary] ?? 0) <= this.#start) {
      this.#firstBoundary++;
    }
    if (this.#firstBoundary > 1024) {
      this.#boundaries = this.#boundaries.slice(this.#firstBoundary);
      this.#firstBoundary = 0;
    }
    return segment;
  }
}

/**
 * Splits a whole text into as few pieces of at most `maxChars` as boundaries allow: each piece ends
 * at the last boundary within the limit, or is cut hard when there is none.
 */
export function splitForCheck(text: string, maxChars: number = MSG_SEC_CHECK_MAX_CHARS): string[] {
  const segmenter = new ReplyCheckSegmenter({ maxChars, minChars: maxChars });
  return [...segmenter.push(text), ...segmenter.flush()];
}
