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
 *   stay text; marked would otherwise recurse until the stack overflows), and inline text is lexed in
 *   pieces of at most MAX_INLINE_CHUNK characters (marked's emphasis matching is quadratic in the worst
 *   case, e.g. `*a` repeated 50,000 times) — see `splitInline`.
 * - Deterministic: the same `src` always gives the same tokens.
 */
import { getDefaults, Lexer, Tokenizer, type MarkedOptions, type Token, type Tokens } from 'marked';

/** Deepest block quote / list nesting that is still structure; deeper markers render as text. */
export const MAX_NESTING = 16;
/** Longest inline text lexed as one piece; longer paragraphs are lexed piecewise at line or word breaks. */
export const MAX_INLINE_CHUNK = 2000;

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

/**
 * Cuts inline source longer than MAX_INLINE_CHUNK into pieces: at the last newline inside the limit,
 * else the last space, else at the limit (never inside a surrogate pair). Markup spanning a cut is lost
 * — the price of a bound, paid only by paragraphs longer than any real answer's.
 */
export function splitInline(src: string): string[] {
  if (src.length <= MAX_INLINE_CHUNK) return [src];
  const pieces: string[] = [];
  let start = 0;
  while (src.length - start > MAX_INLINE_CHUNK) {
    const limit = start + MAX_INLINE_CHUNK;
    let cut = src.lastIndexOf('\n', limit - 1) + 1;
    if (cut <= start + MAX_INLINE_CHUNK / 2) cut = src.lastIndexOf(' ', limit - 1) + 1;
    if (cut <= start + MAX_INLINE_CHUNK / 2) {
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

/** Lexes normalised Markdown into marked's top-level tokens, inline tokens filled in. */
export function lexMarkdown(src: string): Token[] {
  const lexer = new Lexer({ ...BASE_OPTIONS, tokenizer: new BoundedTokenizer() });
  const tokens = lexer.blockTokens(src, []);
  // What `Lexer.lex` does after the block pass, but with long inline sources lexed piecewise.
  for (const job of lexer.inlineQueue) {
    for (const piece of splitInline(job.src)) {
      lexer.state.inRawBlock = false;
      lexer.inlineTokens(piece, job.tokens);
    }
  }
  lexer.inlineQueue = [];
  return tokens;
}
