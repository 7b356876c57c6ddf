/**
 * Reads one unlabelled sample from a Prometheus text exposition (what `GET /metrics` answers).
 *
 * Contract: `readUnlabelledSample(text, name)` answers the value of the line `<name> <value>`
 * (optionally followed by a timestamp), or undefined when there is none; `# HELP`/`# TYPE`
 * lines and series with labels or longer names that share the prefix are never mistaken for it.
 * Enough for the benchmarks to watch `wxstream_replies_in_progress` as an operator would.
 */

export function readUnlabelledSample(exposition: string, name: string): number | undefined {
  for (const line of exposition.split('\n')) {
    if (!line.startsWith(`${name} `)) continue;
    const value = Number(line.slice(name.length + 1).trim().split(/\s+/)[0]);
    return Number.isNaN(value) ? undefined : value;
  }
  return undefined;
}
