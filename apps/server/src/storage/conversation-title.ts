/**
 * Conversation titles: the automatic one taken from the first message, and the rules any title
 * (automatic or chosen by the user) must meet before it is stored.
 *
 * Contract: pure. Whitespace runs (newlines included) become one space and the ends are trimmed, so
 * a title always fits on one line. Lengths count code points, as a user counts characters. Cutting
 * never splits a grapheme cluster (a flag, a family emoji, a letter with its accent): a cluster
 * that would cross the limit is left out whole.
 */
import { MAX_TITLE_CHARS, WxstreamError } from '@wxstream/protocol';
import { cleanUserText, isInvisible } from '../text/user-text.ts';

/** How much of the first message becomes the title. */
export const AUTO_TITLE_CHARS = 30;
/** For a first message with nothing printable in it (the chat route refuses blank messages anyway). */
export const FALLBACK_TITLE = '新对话';

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

function collapseWhitespace(text: string): string {
  return text.replace(/\s+/gu, ' ').trim();
}

function codePointLength(text: string): number {
  let count = 0;
  for (const _ of text) count += 1;
  return count;
}

/** At most `maxChars` code points from the start of `text`, ending on a grapheme boundary. */
export function truncateToCodePoints(text: string, maxChars: number): string {
  let used = 0;
  let end = 0;
  for (const { segment } of graphemes.segment(text)) {
    const size = codePointLength(segment);
    if (used + size > maxChars) break;
    used += size;
    end += segment.length;
  }
  return text.slice(0, end);
}

export function titleFromMessage(message: string): string {
  const title = truncateToCodePoints(collapseWhitespace(message), AUTO_TITLE_CHARS).trimEnd();
  return title === '' ? FALLBACK_TITLE : title;
}

/**
 * The title as stored — cleaned as every user text is (`text/user-text.ts`) — or `invalid_request`
 * when it is empty, only invisible characters, or longer than `MAX_TITLE_CHARS`.
 */
export function normalizeTitle(title: string): string {
  const normalized = collapseWhitespace(cleanUserText(title));
  if (isInvisible(normalized)) throw new WxstreamError('invalid_request', 'title must not be empty or only invisible characters');
  const length = codePointLength(normalized);
  if (length > MAX_TITLE_CHARS) {
    throw new WxstreamError('invalid_request', `title has ${length} characters; the limit is ${MAX_TITLE_CHARS}`);
  }
  return normalized;
}
