/**
 * Fires once when nothing has happened for `timeoutMs`.
 *
 * Contract: `touch()` records activity and arms the watchdog if it is not armed; `pause()` disarms
 * it until the next `touch()` (used while we wait for a slow client, which is not the upstream's
 * fault); `stop()` disarms it for good. `onIdle` runs at most once, no earlier than `timeoutMs`
 * after the last `touch()`. Time comes from the injected clock.
 *
 * `touch()` runs for every upstream chunk, so it only stores a timestamp: one timer stays armed
 * and, when it fires early because activity moved the deadline, re-arms itself for the rest.
 */
import type { Clock, TimerHandle } from '../clock.ts';

export interface IdleWatchdog {
  touch(): void;
  pause(): void;
  stop(): void;
}

export function createIdleWatchdog(options: { clock: Clock; timeoutMs: number; onIdle: () => void }): IdleWatchdog {
  const { clock, timeoutMs } = options;
  let timer: TimerHandle | undefined;
  let lastActivity = 0;
  let finished = false;

  const disarm = () => {
    if (timer !== undefined) clock.clearTimeout(timer);
    timer = undefined;
  };
  const arm = (delayMs: number) => {
    timer = clock.setTimeout(check, delayMs);
  };
  function check(): void {
    timer = undefined;
    if (finished) return;
    const quietFor = clock.now() - lastActivity;
    if (quietFor < timeoutMs) {
      arm(timeoutMs - quietFor);
      return;
    }
    finished = true;
    options.onIdle();
  }

  return {
    touch() {
      if (finished) return;
      lastActivity = clock.now();
      if (timer === undefined) arm(timeoutMs);
    },
    pause: disarm,
    stop() {
      finished = true;
      disarm();
    },
  };
}
