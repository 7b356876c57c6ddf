/**
 * A wait on the injected clock that the client going away cuts short.
 *
 * Contract: resolves after `ms` on `clock`; rejects with `signal.reason` as soon as `signal` aborts
 * (at once if it already has), and then clears its timer so nothing fires later.
 */
import type { Clock } from '../clock.ts';

export function abortableSleep(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clock.clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = clock.setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
