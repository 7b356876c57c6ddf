/**
 * What a conversation title may be, checked before a rename is sent, and how a title is shown.
 *
 * Contract: `checkTitle` trims the input (as the server does) and accepts 1..MAX_TITLE_CHARS
 * characters, counted as Unicode code points so an emoji counts once; otherwise it says why, in
 * Chinese, for the rename dialog. `displayTitle` never returns an empty string.
 */
import { MAX_TITLE_CHARS } from '../vendor/wxstream-client.js';

export type TitleCheck = { ok: true; title: string } | { ok: false; message: string };

export const UNTITLED = '未命名对话';

export function titleLength(title: string): number {
  return Array.from(title).length;
}

export function checkTitle(input: string): TitleCheck {
  const title = input.trim();
  if (title === '') return { ok: false, message: '标题不能为空' };
  if (titleLength(title) > MAX_TITLE_CHARS) return { ok: false, message: `标题不能超过 ${MAX_TITLE_CHARS} 个字` };
  return { ok: true, title };
}

export function displayTitle(title: string): string {
  const trimmed = title.trim();
  return trimmed === '' ? UNTITLED : trimmed;
}
