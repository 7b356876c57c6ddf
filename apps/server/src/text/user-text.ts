/**
 * What the server does to every text a user sends (chat messages, conversation titles, comments)
 * before it is checked, stored, shown or sent to the model.
 *
 * Contract: `cleanUserText(text)` is pure and returns the text
 * - in Unicode NFC, so the same words are the same string (in the store, in content checks, in the
 *   model's context), however the phone's keyboard composed them;
 * - without bidirectional embedding, override and isolate controls (U+202A–U+202E, U+2066–U+2069):
 *   they are REMOVED, not refused — they reorder what a reader sees (the "Trojan Source" trick: a
 *   title that displays differently from what it says) and no chat text needs them; the
 *   right-to-left and left-to-right marks (U+200E, U+200F, U+061C) stay, since Arabic and Hebrew
 *   text legitimately use them and they reorder nothing by themselves;
 * - without C0/C1 control characters other than tab, line feed and carriage return (a NUL cannot
 *   be stored in PostgreSQL text, and none of them is something a person typed).
 * `isInvisible(text)` is true when nothing a person could see is left: only white space, control
 * and format characters, default-ignorable code points (zero-width space and joiners, word joiner,
 * BOM, variation selectors, Hangul fillers …) and separators. Callers refuse such text with 400,
 * as they refuse an empty one.
 */

const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069]/gu;
const STRAY_CONTROLS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/gu;
const INVISIBLE_ONLY = /^[\p{White_Space}\p{Cc}\p{Cf}\p{Z}\p{Default_Ignorable_Code_Point}]*$/u;

export function cleanUserText(text: string): string {
  return text.normalize('NFC').replace(BIDI_CONTROLS, '').replace(STRAY_CONTROLS, '');
}

export function isInvisible(text: string): boolean {
  return INVISIBLE_ONLY.test(text);
}
