/**
 * The history page's rows and the `setData` objects that change them.
 *
 * Contract: pure. A row holds only what the template shows — display title (never empty) and the
 * relative time as of `now`. Appending a page and changing a row use path keys (`items[20]`,
 * `items[3].title`), so loading more or renaming costs what changed, not the whole list; only a list
 * that is replaced or loses a row in the middle is sent whole.
 */
import type { ConversationSummary } from '../../vendor/wxstream-client.js';
import { displayTitle } from '../../lib/conversation-title.ts';
import { relativeTimeOf, type UtcOffsetAt } from './relative-time.ts';

export interface HistoryItem {
  /** The conversation id: the row's `wx:key` and what a tap opens. */
  id: string;
  title: string;
  /** Last activity, relative to when the row was made ('刚刚', '5 分钟前', '昨天', …). */
  time: string;
}

export interface TimeContext {
  now: number;
  offsetAt: UtcOffsetAt;
}

export type SetDataObject = Record<string, unknown>;

export function historyItem(summary: ConversationSummary, time: TimeContext): HistoryItem {
  return { id: summary.id, title: displayTitle(summary.title), time: relativeTimeOf(summary.updatedAt, time.now, time.offsetAt) };
}

export function historyItems(list: readonly ConversationSummary[], time: TimeContext): HistoryItem[] {
  return list.map((summary) => historyItem(summary, time));
}

/** Appends rows after the `count` already shown, one path key each. */
export function appendItemsData(count: number, items: readonly HistoryItem[]): SetDataObject {
  const data: SetDataObject = {};
  items.forEach((item, offset) => {
    data[`items[${count + offset}]`] = item;
  });
  return data;
}

/**
 * Path keys for the fields that differ between two renderings of the same rows (same ids in the same
 * order — a time refresh, a rename); the whole list when the rows themselves differ.
 */
export function itemChangesData(before: readonly HistoryItem[], after: readonly HistoryItem[]): SetDataObject {
  const sameRows = before.length === after.length && before.every((item, index) => item.id === after[index]?.id);
  if (!sameRows) return { items: after };
  const data: SetDataObject = {};
  after.forEach((item, index) => {
    const old = before[index];
    if (old?.title !== item.title) data[`items[${index}].title`] = item.title;
    if (old?.time !== item.time) data[`items[${index}].time`] = item.time;
  });
  return data;
}
