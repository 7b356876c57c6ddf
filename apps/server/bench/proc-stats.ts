/**
 * What Linux says about a process and the machine, read from /proc so every relay in the benchmark
 * (node children and nginx alike) is measured the same way.
 *
 * Contract: `processCpuMicros(pid)` is the process's user + system CPU so far (µs, at the kernel's
 * clock-tick resolution, 10 ms); `processRssBytes(pid)` its resident set now; `machineTimes()` the
 * whole machine's busy and total jiffies so far, for how loaded the machine was over a window.
 */
import { readFileSync } from 'node:fs';

/** USER_HZ: the unit of /proc CPU times on every Linux this runs on. */
const TICKS_PER_SECOND = 100;

export function processCpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command (which may hold spaces) start after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1e6) / TICKS_PER_SECOND;
}

export function processRssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  return Number(kib ?? 0) * 1024;
}

export interface MachineTimes {
  readonly busy: number;
  readonly total: number;
}

export function machineTimes(): MachineTimes {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  const total = values.reduce((sum, value) => sum + value, 0);
  // idle + iowait are not busy.
  const busy = total - (values[3] ?? 0) - (values[4] ?? 0);
  return { busy, total };
}

/** Share of the machine's CPU time that was busy between two readings, 0–1. */
export function machineBusy(from: MachineTimes, to: MachineTimes): number {
  const total = to.total - from.total;
  return total > 0 ? (to.busy - from.busy) / total : 0;
}
