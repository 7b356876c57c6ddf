/**
 * A tokenizer-free estimate of how many tokens a text costs, for two jobs: fitting a conversation
 * into the context budget, and charging a reply to the daily quota when the provider reports no
 * usage.
 *
 * Contract: pure, deterministic, linear in the text, never negative; the empty text costs 0. The
 * approximation, per code point, rounded up over the whole text:
 * - CJK (Han ideographs, kana, Hangul, CJK and fullwidth punctuation): 1 token. BPE vocabularies
 *   give common hanzi about one token each (cl100k a little more, o200k / Qwen / DeepSeek a little
 *   less), so 1 is the honest middle for the providers a WeChat audience uses.
 * - ASCII: 1/4 token — English averages about four characters per token; code and digits run
 *   denser, long words sparser.
 * - Any other code point (accented Latin, Cyrillic, Arabic, emoji …): 1/2 token. These take one to
 *   three tokens per few characters; a quarter would badly undercount an emoji-heavy message.
 * - Each chat message adds `MESSAGE_OVERHEAD_TOKENS` for its role and delimiters, and a prompt adds
 *   `REPLY_PRIMING_TOKENS` for the assistant turn it opens (OpenAI's documented 3 + 3 per message,
 *   rounded up to cover providers whose templates are wordier).
 * It errs by tens of percent on unusual text; it is for budgets and fallbacks, never for billing
 * against a provider's own count.
 */
import type { UsageData } from '@wxstream/protocol';

export const MESSAGE_OVERHEAD_TOKENS = 4;
export const REPLY_PRIMING_TOKENS = 3;

function isCjk(codePoint: number): boolean {
  return (
    (codePoint >= 0x1100 && codePoint <= 0x11ff) || // Hangul Jamo
    (codePoint >= 0x2e80 && codePoint <= 0x9fff) || // radicals, CJK punctuation, kana, bopomofo, Ext A, Unified
    (codePoint >= 0xa960 && codePoint <= 0xa97f) || // Hangul Jamo Extended-A
    (codePoint >= 0xac00 && codePoint <= 0xd7ff) || // Hangul syllables and Jamo Extended-B
    (codePoint >= 0xf900 && codePoint <= 0xfaff) || // compatibility ideographs
    (codePoint >= 0xfe30 && codePoint <= 0xfe4f) || // CJK compatibility forms
    (codePoint >= 0xff00 && codePoint <= 0xffef) || // fullwidth and halfwidth forms
    (codePoint >= 0x20000 && codePoint <= 0x3ffff) // Extensions B and later
  );
}

export function estimateTokens(text: string): number {
  // Counted in quarter tokens so the sum stays an exact integer.
  let quarters = 0;
  for (const char of text) {
    const codePoint = char.codePointAt(0) ?? 0;
    if (codePoint < 0x80) quarters += 1;
    else if (isCjk(codePoint)) quarters += 4;
    else quarters += 2;
  }
  return Math.ceil(quarters / 4);
}

export function estimateMessageTokens(message: { readonly content: string }): number {
  return MESSAGE_OVERHEAD_TOKENS + estimateTokens(message.content);
}

export function estimatePromptTokens(messages: readonly { readonly content: string }[]): number {
  let total = REPLY_PRIMING_TOKENS;
  for (const message of messages) total += estimateMessageTokens(message);
  return total;
}

/** Usage for a reply whose provider sent none: the prompt as sent, the completion as received. */
export function estimateUsage(prompt: readonly { readonly content: string }[], completion: string): UsageData {
  return { promptTokens: estimatePromptTokens(prompt), completionTokens: estimateTokens(completion) };
}
