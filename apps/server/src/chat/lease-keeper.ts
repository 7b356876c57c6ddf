/**
 * Keeps a reply's lease alive while the reply runs, however long it takes.
 *
 * Contract: renews the lease every `intervalMs` on the injected clock until `stop()`. The lease's
 * TTL only exists to free the user if this process dies holding it, so a live reply renews well
 * inside it (the caller picks a third of the TTL: two renewals may fail or run late before the
 * lease lapses). A renewal that reports the lease lost — released, or expired under a stalled
 * event loop and taken by another reply — is logged once and renewing stops; the reply itself goes
 * on (cutting off text the user is reading would be worse than two replies overlapping once).
 */
import type { Clock, TimerHandle } from '../clock.ts';
import type { Lease } from '../limits/reply-locks.ts';
import type { Logger } from '../logger.ts';

export interface LeaseKeeper {
  stop(): void;
}

export function keepLeaseAlive(options: { lease: Lease; clock: Clock; intervalMs: number; log: Logger }): LeaseKeeper {
  const { lease, clock, log } = options;
  let timer: TimerHandle | undefined;
  let stopped = false;

  const renew = () => {
    timer = undefined;
    if (stopped) return;
    lease.renew().then(
      (kept) => {
        if (stopped) return;
        if (kept) timer = clock.setTimeout(renew, options.intervalMs);
        else log.warn({ replyId: lease.replyId }, 'the reply lease was lost before the reply ended');
      },
      (error: unknown) => {
        if (stopped) return;
        log.warn({ err: error }, 'could not renew the reply lease; trying again');
        timer = clock.setTimeout(renew, options.intervalMs);
      },
    );
  };
  timer = clock.setTimeout(renew, options.intervalMs);

  return {
    stop() {
      stopped = true;
      if (timer !== undefined) clock.clearTimeout(timer);
      timer = undefined;
    },
  };
}
