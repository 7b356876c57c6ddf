/**
 * What the process holds open (timers, sockets, child processes, pipes), for "nothing is left
 * behind" tests: `resourceCounts()` is a snapshot by kind from `process.getActiveResourcesInfo()`,
 * and `excessOver(baseline)` lists each kind that now has more than the baseline had.
 */

export function resourceCounts(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return counts;
}

export function excessOver(baseline: Map<string, number>): string[] {
  const excess: string[] = [];
  for (const [kind, count] of resourceCounts()) if (count > (baseline.get(kind) ?? 0)) excess.push(`${kind}: ${count} > ${baseline.get(kind) ?? 0}`);
  return excess;
}
