/**
 * "When was this conversation last active", in the short Chinese forms chat apps use.
 *
 * Contract: pure; `now` and the local UTC offset come in as arguments, so the same instant reads the
 * same on every machine in the same zone and tests pin both. Calendar days are local days.
 * - under a minute (or in the future, from clock skew): 刚刚
 * - under an hour: N 分钟前
 * - earlier the same day: N 小时前
 * - the day before: 昨天
 * - earlier this year: M月D日; before that: YYYY年M月D日
 * An unparseable timestamp reads as ''.
 */

/** Minutes east of UTC in effect at an instant (480 for China); a function so DST zones are right too. */
export type UtcOffsetAt = (epochMs: number) => number;

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

/** The local wall-clock time of an instant, as a Date whose UTC fields hold it. */
function wallClock(epochMs: number, offsetAt: UtcOffsetAt): Date {
  return new Date(epochMs + offsetAt(epochMs) * MINUTE_MS);
}

function localDay(epochMs: number, offsetAt: UtcOffsetAt): number {
  return Math.floor(wallClock(epochMs, offsetAt).getTime() / DAY_MS);
}

export function relativeTime(thenMs: number, nowMs: number, offsetAt: UtcOffsetAt): string {
  if (!Number.isFinite(thenMs)) return '';
  const elapsed = nowMs - thenMs;
  if (elapsed < MINUTE_MS) return '刚刚';
  if (elapsed < HOUR_MS) return `${Math.floor(elapsed / MINUTE_MS)} 分钟前`;
  const days = localDay(nowMs, offsetAt) - localDay(thenMs, offsetAt);
  if (days === 0) return `${Math.floor(elapsed / HOUR_MS)} 小时前`;
  if (days === 1) return '昨天';
  const then = wallClock(thenMs, offsetAt);
  const monthDay = `${then.getUTCMonth() + 1}月${then.getUTCDate()}日`;
  return then.getUTCFullYear() === wallClock(nowMs, offsetAt).getUTCFullYear() ? monthDay : `${then.getUTCFullYear()}年${monthDay}`;
}

/** `relativeTime` of an ISO 8601 timestamp from the API. */
export function relativeTimeOf(iso: string, nowMs: number, offsetAt: UtcOffsetAt): string {
  return relativeTime(Date.parse(iso), nowMs, offsetAt);
}
