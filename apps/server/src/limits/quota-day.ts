/**
 * Which quota day an instant falls in, for a fixed UTC offset. Pure.
 *
 * Contract: days are numbered from the epoch in local time (`offsetMinutes` east of UTC; 480 is
 * China Standard Time, which has no daylight saving); day n runs from `startMs` inclusive to
 * `nextStartMs` exclusive, both UTC epoch milliseconds. A fixed offset rather than a zone name
 * keeps the boundary identical on every instance and in Redis keys, whatever the host's zone.
 */

export const DAY_MS = 24 * 60 * 60 * 1000;

export interface QuotaDay {
  /** Whole local days since 1970-01-01 local; usable as part of a storage key. */
  readonly day: number;
  readonly startMs: number;
  readonly nextStartMs: number;
}

export function quotaDayAt(nowMs: number, offsetMinutes: number): QuotaDay {
  const offsetMs = offsetMinutes * 60_000;
  const day = Math.floor((nowMs + offsetMs) / DAY_MS);
  const startMs = day * DAY_MS - offsetMs;
  return { day, startMs, nextStartMs: startMs + DAY_MS };
}
