/**
 * Waiting for something the server does after the fact (a log line, a stored write, a timer that
 * is torn down), without asserting how fast it happens.
 *
 * Contract: `eventually(check, what)` calls `check` until it returns something other than
 * `undefined`/`false` and resolves with that; it gives up only after `PATIENCE_MS`, a hang guard
 * far beyond anything a loaded 2-core machine needs — never a claim about speed. Tests that must
 * show that something happened *promptly* show it by order of events (it happened before X could)
 * rather than by the wall clock.
 */
import { setTimeout as sleep } from 'node:timers/promises';

/** How long a test waits for something that must happen before it gives up: a hang guard only. */
export const PATIENCE_MS = 30_000;

const POLL_MS = 10;

export async function eventually<T>(check: () => T | undefined | false | Promise<T | undefined | false>, what: string, patienceMs = PATIENCE_MS): Promise<T> {
  const giveUpAt = performance.now() + patienceMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (performance.now() > giveUpAt) throw new Error(`gave up after ${patienceMs} ms waiting for ${what}`);
    await sleep(POLL_MS);
  }
}
