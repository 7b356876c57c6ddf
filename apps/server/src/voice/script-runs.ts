/**
 * Splits a segment into runs by writing system, so each run can be read by a voice that knows it.
 *
 * Contract: `scriptRuns(text, neutral)` returns runs whose texts joined are exactly `text`, each
 * tagged `zh` (Han, kana, Hangul, CJK and full-width punctuation) or `en` (Latin letters).
 * Characters of neither kind — digits, ASCII punctuation, spaces, other scripts — join the run
 * they follow (so `Python 3.12` stays English and `第3版` Chinese); before the first letter of
 * either kind they join the first run, and a text with no letters at all is one `neutral` run.
 * Adjacent runs never share a language.
 */

export type RunLanguage = 'zh' | 'en';

export interface ScriptRun {
  readonly language: RunLanguage;
  readonly text: string;
}

const CHINESE_LIKE = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\u3000-\u303f\uff00-\uffef]/u;
const LATIN = /\p{Script=Latin}/u;

function languageOf(ch: string): RunLanguage | undefined {
  if (CHINESE_LIKE.test(ch)) return 'zh';
  if (LATIN.test(ch)) return 'en';
  return undefined;
}

export function scriptRuns(text: string, neutral: RunLanguage): ScriptRun[] {
  const runs: { language: RunLanguage | undefined; text: string }[] = [];
  for (const ch of text) {
    const language = languageOf(ch);
    const last = runs.at(-1);
    if (last === undefined) runs.push({ language, text: ch });
    else if (language === undefined || language === last.language) last.text += ch;
    else if (last.language === undefined) {
      // Leading neutral characters take the language of the first letter.
      last.language = language;
      last.text += ch;
    } else runs.push({ language, text: ch });
  }
  return runs.map((run) => ({ language: run.language ?? neutral, text: run.text }));
}
