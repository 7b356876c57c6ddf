/**
 * The one configuration of marked's lexer the pipeline uses: GFM Markdown in, marked's tokens out.
 *
 * Why marked's lexer: measured against markdown-it (docs/markdown.md), it is about half the bundle size
 * and a little faster, and its top-level tokens carry their exact source (`raw`, summing to the input),
 * which is what finding block boundaries incrementally needs. We never use its HTML renderer.
 *
 * Contract of `lexMarkdown(src)`:
 * - `src` must already be normalised (`normalizeNewlines`); top-level tokens' `raw` concatenate to `src`.
 * - Link reference definitions are not definitions here: `[x]: url` is shown as the text it is (its URL
 *   autolinked) and `[text][x]` stays text. A definition changes how blocks *before* it render, which
 *   would break "a finished block never changes" while a reply streams; models rarely use them.
 * - Bounded cost on hostile input: block quotes and lists nest at most MAX_NESTING deep (deeper markers
 *   stay text; marked would otherwise recurse until the stack overflows), a table has at most
 *   MAX_TABLE_COLUMNS columns, and inline text is lexed in pieces of at most MAX_INLINE_CHUNK characters,
 *   DENSE_INLINE_CHUNK when it is dense with markup (marked's emphasis and link matching scan ahead from
 *   every delimiter, e.g. `*a` repeated 50,000 times took 5 s whole) — see `splitInline`; and a paragraph
 *   gives marked at most MAX_INLINE_PUNCTUATION punctuation characters (plus one piece): the pieces after
 *   that are kept as plain text, unlexed. Both depend only on that paragraph's source, so a paragraph
 *   lexes the same in the whole text as in a streamed tail.
 * - Deterministic: the same `src` always gives the same tokens.
 */
import { getDefaults, Lexer, Tokenizer, type MarkedOptions, type Token, type Tokens } from 'marked';

/** Deepest block quote / list nesting that is still structure; deeper markers render as text. */
export const MAX_NESTING = 10;
/** Longest inline text lexed as one piece; longer paragraphs are lexed piecewise at line or word breaks. */
export const MAX_INLINE_CHUNK = 2000;
/**
 * Inline text dense with markup characters is lexed in pieces this short: marked's cost per `*`, `_`,
 * `~`, `[`, `<` or backtick grows with the length of the piece it scans (`[` × 100,000 took 150 ms in
 * 2,000-character pieces).
 */
export const DENSE_INLINE_CHUNK = 256;
/** More markup characters than this in one inline text make it dense. */
export const DENSE_MARKUP = 256;
/**
 * ASCII punctuation one paragraph (one inline source) may spend on marked's inline lexer; the pieces
 * after the one that spends it are kept as plain text, unlexed. marked's inline cost is per
 * punctuation character (each may start a link, emphasis, code span, tag, escape, autolink or URL):
 * 1–3 µs each with the JIT, so a 100,000-character line of `*a`, `[`, `<a`, `\\*` or `www.a `
 * took 35–150 ms. A real answer's paragraph holds well under a tenth of this budget.
 */
export const MAX_INLINE_PUNCTUATION = 4096;
/** A table header with more cells than this is not a table (its text is shown as a paragraph). */
export const MAX_TABLE_COLUMNS = 64;

/** A tokenizer that drops link definitions and caps nesting. One per lex: it counts depth as it goes. */
class BoundedTokenizer extends Tokenizer {
  private depth = 0;

  override def(): undefined {
    return undefined;
  }

  override blockquote(src: string): Tokens.Blockquote | undefined {
    return this.nested(() => super.blockquote(src));
  }

  override list(src: string): Tokens.List | undefined {
    return this.nested(() => super.list(src));
  }

  override table(src: string): Tokens.Table | undefined {
    const header = src.slice(0, src.indexOf('\n') === -1 ? src.length : src.indexOf('\n'));
    let pipes = 0;
    for (let i = 0; i < header.length && pipes <= MAX_TABLE_COLUMNS + 1; i++) if (header.charCodeAt(i) === 124) pipes++;
    return pipes > MAX_TABLE_COLUMNS + 1 ? undefined : super.table(src);
  }

  private nested<T>(tokenize: () => T | undefined): T | undefined {
    if (this.depth >= MAX_NESTING) return undefined;
    this.depth += 1;
    try {
      return tokenize();
    } finally {
      this.depth -= 1;
    }
  }
}

const BASE_OPTIONS: MarkedOptions = { ...getDefaults(), gfm: true, breaks: false, pedantic: false, silent: false };

/** CRLF and lone CR become LF, as CommonMark (and marked's own `lex`) does. */
export function normalizeNewlines(text: string): string {
  return text.indexOf('\r') === -1 ? text : text.replace(/\r\n?/g, '\n');
}

/** How many of the characters inline markup is made of (`*_~` backtick `[]<!`) `src` holds, up to `stop`. */
function markupCount(src: string, stop: number): number {
  let count = 0;
  for (let i = 0; i < src.length && count <= stop; i++) {
    const c = src.charCodeAt(i);
    // * _ ~ ` [ ] < !
    if (c === 42 || c === 95 || c === 126 || c === 96 || c === 91 || c === 93 || c === 60 || c === 33) count++;
  }
  return count;
}

/** The last index in `from` down to `floor` (inclusive) where `src` holds the character `code`, else -1. */
function lastIndexIn(src: string, code: number, from: number, floor: number): number {
  for (let i = from; i >= floor; i--) if (src.charCodeAt(i) === code) return i;
  return -1;
}

/** How many ASCII punctuation characters (`!`–`/`, `:`–`@`, `[`–backtick, `{`–`~`) `src` holds. */
function punctuationCount(src: string): number {
  let count = 0;
  for (let i = 0; i < src.length; i++) {
    const c = src.charCodeAt(i);
    if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126)) count++;
  }
  return count;
}

/**
 * Cuts inline source longer than its piece limit into pieces: at the last newline inside the limit,
 * else the last space, else at the limit (never inside a surrogate pair). The limit is MAX_INLINE_CHUNK,
 * or DENSE_INLINE_CHUNK for text holding more than DENSE_MARKUP markup characters. Markup spanning a cut
 * is lost — the price of a bound, paid only by paragraphs longer or denser than any real answer's.
 */
export function splitInline(src: string): string[] {
  if (src.length <= DENSE_INLINE_CHUNK) return [src];
  const dense = markupCount(src, DENSE_MARKUP) > DENSE_MARKUP;
  const size = dense ? DENSE_INLINE_CHUNK : MAX_INLINE_CHUNK;
  if (src.length <= size) return [src];
  const pieces: string[] = [];
  let start = 0;
  while (src.length - start > size) {
    const limit = start + size;
    // Only the second half of the piece is searched: an unbounded `lastIndexOf` would walk back to
    // the start of the text for every piece of a line with no break (quadratic in the line).
    const floor = start + size / 2;
    let cut = lastIndexIn(src, 10, limit - 1, floor) + 1;
    if (cut <= floor) cut = lastIndexIn(src, 32, limit - 1, floor) + 1;
    if (cut <= floor) {
      cut = limit;
      const code = src.charCodeAt(cut - 1);
      if (code >= 0xd800 && code <= 0xdbff) cut -= 1;
    }
    pieces.push(src.slice(start, cut));
    start = cut;
  }
  pieces.push(src.slice(start));
  return pieces;
}

/** What one `lexMarkdown` call handed to marked's inline lexer, and what it kept as plain text. */
export interface InlineLexStats {
  /** Characters of inline source given to marked's inline lexer. */
  lexed: number;
  /** Characters of inline source kept as plain text, past a paragraph's punctuation budget. */
  keptAsText: number;
}

/**
 * Lexes normalised Markdown into marked's top-level tokens, inline tokens filled in. `stats`, when
 * given, is added to (tests use it to pin how much text marked had to lex).
 */
export function lexMarkdown(src: string, stats?: InlineLexStats): Token[] {
  const lexer = new Lexer({ ...BASE_OPTIONS, tokenizer: new BoundedTokenizer() });
  const tokens = lexer.blockTokens(src, []);
  // What `Lexer.lex` does after the block pass, but with long inline sources lexed piecewise, and
  // only until the paragraph's punctuation budget is spent (see MAX_INLINE_PUNCTUATION).
  for (const job of lexer.inlineQueue) {
    let punctuation = 0;
    let offset = 0;
    for (const piece of splitInline(job.src)) {
      if (punctuation > MAX_INLINE_PUNCTUATION) break;
      punctuation += punctuationCount(piece);
      lexer.state.inRawBlock = false;
      lexer.inlineTokens(piece, job.tokens);
      offset += piece.length;
    }
    if (stats) stats.lexed += offset;
    if (offset < job.src.length) {
      const rest = job.src.slice(offset);
      job.tokens.push({ type: 'text', raw: rest, text: rest, escaped: false } satisfies Tokens.Text);
      if (stats) stats.keptAsText += rest.length;
    }
  }
  lexer.inlineQueue = [];
  return tokens;
}
