/**
 * Fires once when nothing has happened for `timeoutMs`.
 *
 * Contract: `touch()` (re)arms the timer; `pause()` disarms it until the next `touch()` (used while
 * we wait for a slow client, which is not the upstream's fault); `stop()` disarms it for good.
 * `onIdle` runs at most once. Time comes from the injected clock.
 */
import type { Clock, TimerHandle } from '../clock.ts';

export interface IdleWatchdog {
  touch(): void;
  pause(): void;
  stop(): void;
}

export function createIdleWatchdog(options: { clock: Clock; timeoutMs: number; onIdle: () => void }): IdleWatchdog {
  let timer: TimerHandle | undefined;
  let finished = false;
  const disarm = () => {
    if (timer !== undefined) options.clock.clearTimeout(timer);
    timer = undefined;
  };
  return {
    touch() {
      if (finished) return;
      disarm();
      timer = options.clock.setTimeout(() => {
        timer = undefined;
        finished = true;
        options.onIdle();
      }, options.timeoutMs);
    },
    pause: disarm,
    stop() {
      finished = true;
      disarm();
    },
  };
}
