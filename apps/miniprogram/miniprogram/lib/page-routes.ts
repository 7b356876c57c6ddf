/**
 * The pages' addresses: what one page passes `wx.navigateTo` / `wx.reLaunch` to reach another, and
 * how the chat page reads the conversation it was opened with.
 *
 * Contract: the chat page URL without an id opens a new conversation; with one, `onLoad` gets that id
 * back from `conversationIdFromQuery` whether WeChat hands the query value over still escaped or
 * already unescaped (this differs between base libraries and entry paths): a value that contains a
 * valid escape is unescaped once, any other value is kept as it is. Ids are opaque server strings
 * without `%` in practice; one that has a literal `%` followed by two hex digits would be misread.
 */

export const CHAT_PAGE = '/pages/chat/chat';
export const HISTORY_PAGE = '/pages/history/history';

const CONVERSATION_PARAM = 'conversationId';

export function chatPageUrl(conversationId?: string): string {
  return conversationId ? `${CHAT_PAGE}?${CONVERSATION_PARAM}=${encodeURIComponent(conversationId)}` : CHAT_PAGE;
}

function unescape(value: string): string {
  if (!/%[0-9a-f]{2}/i.test(value)) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** The conversation id of the chat page's `onLoad` options; undefined for a new conversation. */
export function conversationIdFromQuery(query: Record<string, string | undefined> | undefined): string | undefined {
  const raw = query?.[CONVERSATION_PARAM];
  if (typeof raw !== 'string' || raw === '') return undefined;
  return unescape(raw);
}
