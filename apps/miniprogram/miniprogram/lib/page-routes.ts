/**
 * The pages' addresses: what one page passes `wx.navigateTo` / `wx.reLaunch` to reach another, how
 * the chat page reads the conversation it was opened with, and the share page the share it shows.
 *
 * Contract: the chat page URL without an id opens a new conversation; with one, `onLoad` gets that id
 * back from `conversationIdFromQuery` whether WeChat hands the query value over still escaped or
 * already unescaped (this differs between base libraries and entry paths): a value that contains a
 * valid escape is unescaped once, any other value is kept as it is. Ids are opaque server strings
 * without `%` in practice; one that has a literal `%` followed by two hex digits would be misread.
 */

export const CHAT_PAGE = '/pages/chat/chat';
export const HISTORY_PAGE = '/pages/history/history';
export const SHARE_PAGE = '/pages/share/share';

const CONVERSATION_PARAM = 'conversationId';
const SHARE_PARAM = 'id';

/** The share page showing the shared snapshot `shareId` (what a share card opens). */
export function sharePageUrl(shareId: string): string {
  return `${SHARE_PAGE}?${SHARE_PARAM}=${encodeURIComponent(shareId)}`;
}

/** The query of `sharePageUrl` as `onShareTimeline` takes it (no path there: the page shares itself). */
export function shareQuery(shareId: string): string {
  return `${SHARE_PARAM}=${encodeURIComponent(shareId)}`;
}

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

function queryValue(query: Record<string, string | undefined> | undefined, name: string): string | undefined {
  const raw = query?.[name];
  if (typeof raw !== 'string' || raw === '') return undefined;
  return unescape(raw);
}

/** The conversation id of the chat page's `onLoad` options; undefined for a new conversation. */
export function conversationIdFromQuery(query: Record<string, string | undefined> | undefined): string | undefined {
  return queryValue(query, CONVERSATION_PARAM);
}

/** The share id of the share page's `onLoad` options. */
export function shareIdFromQuery(query: Record<string, string | undefined> | undefined): string | undefined {
  return queryValue(query, SHARE_PARAM);
}
