/**
 * The history list as plain data: pages merged in, one conversation replaced, removed or put back.
 *
 * Contract: pure — every function returns a new array and never changes its input. A list never holds
 * two conversations with the same id: pages can overlap (a conversation created or updated between
 * two page loads shifts the next page), so a conversation already listed keeps its place and its
 * later copy is dropped.
 */
import type { ConversationSummary } from '../../vendor/wxstream-client.js';

export function indexOfConversation(list: readonly ConversationSummary[], id: string): number {
  for (let i = 0; i < list.length; i++) if (list[i]?.id === id) return i;
  return -1;
}

/** `list` followed by the conversations of `page` it does not hold yet; `added` are those. */
export function appendPage(
  list: readonly ConversationSummary[],
  page: readonly ConversationSummary[],
): { list: ConversationSummary[]; added: ConversationSummary[] } {
  const seen = new Set(list.map((item) => item.id));
  const added: ConversationSummary[] = [];
  for (const item of page) {
    if (seen.has(item.id)) continue;
    seen.add(item.id);
    added.push(item);
  }
  return { list: [...list, ...added], added };
}

/** Puts `summary` where the conversation with its id is; the list is unchanged (a copy) if it is not there. */
export function replaceConversation(list: readonly ConversationSummary[], summary: ConversationSummary): ConversationSummary[] {
  return list.map((item) => (item.id === summary.id ? summary : item));
}

export function removeConversation(list: readonly ConversationSummary[], id: string): ConversationSummary[] {
  return list.filter((item) => item.id !== id);
}

/** Puts a removed conversation back at `index` (or at the end, if the list got shorter); no-op if it is there. */
export function restoreConversation(list: readonly ConversationSummary[], summary: ConversationSummary, index: number): ConversationSummary[] {
  if (indexOfConversation(list, summary.id) !== -1) return [...list];
  const at = Math.max(0, Math.min(index, list.length));
  return [...list.slice(0, at), summary, ...list.slice(at)];
}
