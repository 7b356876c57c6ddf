/**
 * What the side calls ask the model, and how their answers are read.
 *
 * Contract: pure. `titleRequest` / `followUpRequest` build the messages of one small call from the
 * question and the reply (each cut to `EXCERPT_CHARS`, so a long reply never makes a large side call);
 * their system prompts begin with a fixed tag, which is how `sideTaskOf` — used by the offline model
 * to answer them in kind — tells them from a chat. `readTitle` turns an answer into a title that
 * `normalizeTitle` accepts, or undefined when nothing usable is left. `readFollowUps` turns an answer
 * into at most `MAX_SUGGESTIONS` questions: one per line, numbering and bullets and quotes stripped,
 * blank, over-long (`MAX_SUGGESTION_CHARS`) and repeated ones dropped.
 */
import { MAX_SUGGESTION_CHARS, MAX_SUGGESTIONS } from '@wxstream/protocol';
import { countCodePoints } from '../chat/chat-request.ts';
import { AUTO_TITLE_CHARS, truncateToCodePoints } from '../storage/conversation-title.ts';
import type { ChatMessage } from '../upstream/upstream-model.ts';

export type SideTask = 'title' | 'follow-ups';

const TAGS: Readonly<Record<SideTask, string>> = { title: '[wxstream:title]', 'follow-ups': '[wxstream:follow-ups]' };

/** How much of the question and of the reply a side call sees. */
export const EXCERPT_CHARS = 1500;
/** Answers longer than this are not what was asked for. */
export const TITLE_MAX_TOKENS = 40;
export const FOLLOW_UPS_MAX_TOKENS = 200;

const TITLE_SYSTEM = `${TAGS.title} 你为对话起标题。用对话的语言，给出一个不超过 15 个字（英文不超过 8 个词）的简短标题，概括用户想了解什么。只回答标题本身：不要引号、不要解释、结尾不要标点。
Give the conversation a short title in its own language. Answer with the title only.`;

const FOLLOW_UP_SYSTEM = `${TAGS['follow-ups']} 根据下面的问题和回答，写出用户接下来最可能追问的 ${MAX_SUGGESTIONS} 个简短问题。用用户的语言，每个问题一行，每个不超过 25 个字，不要编号、不要解释。
Suggest ${MAX_SUGGESTIONS} short follow-up questions the user may ask next, one per line, in the user's language, nothing else.`;

function excerpt(text: string): string {
  const cut = truncateToCodePoints(text.trim(), EXCERPT_CHARS);
  return cut.length < text.trim().length ? `${cut}…` : cut;
}

const QUESTION_HEADER = '问题 / Question:\n';
const ANSWER_HEADER = '\n\n回答 / Answer:\n';

function exchange(question: string, answer: string): string {
  return `${QUESTION_HEADER}${excerpt(question)}${ANSWER_HEADER}${excerpt(answer)}`;
}

/** The question a side call's user message carries (for the offline model, which answers from it). */
export function sideQuestionOf(userMessage: string): string {
  const start = userMessage.startsWith(QUESTION_HEADER) ? QUESTION_HEADER.length : 0;
  const end = userMessage.indexOf(ANSWER_HEADER, start);
  return userMessage.slice(start, end === -1 ? undefined : end);
}

export function titleRequest(question: string, answer: string): ChatMessage[] {
  return [
    { role: 'system', content: TITLE_SYSTEM },
    { role: 'user', content: exchange(question, answer) },
  ];
}

export function followUpRequest(question: string, answer: string): ChatMessage[] {
  return [
    { role: 'system', content: FOLLOW_UP_SYSTEM },
    { role: 'user', content: exchange(question, answer) },
  ];
}

export function sideTaskOf(messages: readonly { readonly role: string; readonly content?: unknown }[]): SideTask | undefined {
  const system = messages.find((message) => message.role === 'system')?.content;
  if (typeof system !== 'string') return undefined;
  return (Object.keys(TAGS) as SideTask[]).find((task) => system.startsWith(TAGS[task]));
}

/** Quotes, brackets and labels a model wraps an answer in. */
const WRAPPING = /^["'“”‘’「」『』《》【】\s]+|["'“”‘’「」『』《》【】\s]+$/gu;
const TITLE_LABEL = /^(?:标题|題目|题目|title)\s*[:：]\s*/iu;
const TRAILING_PUNCTUATION = /[。．.!！?？,，;；:：、\s]+$/u;
const LIST_MARK = /^(?:\d{1,2}\s*[.、)）:：]|[-*•·]|[（(]\d{1,2}[)）])\s*/u;

export function readTitle(answer: string): string | undefined {
  const line = answer.split(/\r?\n/).map((part) => part.trim()).find((part) => part !== '');
  if (line === undefined) return undefined;
  let title = line.replace(TITLE_LABEL, '');
  // 「标题」。 and "Title." alike: peel quotes and closing punctuation until neither is left.
  for (let previous = ''; previous !== title; ) {
    previous = title;
    title = title.replace(WRAPPING, '').replace(TRAILING_PUNCTUATION, '');
  }
  title = title.replace(/\s+/gu, ' ').trim();
  if (title === '') return undefined;
  return truncateToCodePoints(title, AUTO_TITLE_CHARS).trim();
}

export function readFollowUps(answer: string): string[] {
  const items: string[] = [];
  for (const raw of answer.split(/\r?\n/)) {
    const item = raw.trim().replace(LIST_MARK, '').replace(WRAPPING, '').replace(/\s+/gu, ' ').trim();
    if (item === '' || countCodePoints(item) > MAX_SUGGESTION_CHARS || items.includes(item)) continue;
    items.push(item);
    if (items.length === MAX_SUGGESTIONS) break;
  }
  return items;
}
