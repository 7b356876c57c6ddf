/**
 * The running state of one admitted reply, from its admission to its release: how it is aborted,
 * its content guard, its place in the in-flight registry, its lease (kept alive while it runs), the
 * idle watchdog on the upstream, and the watch on the client's connection.
 *
 * Contract: `startReplyRun` registers the reply in flight at once, so a shutdown waits for it (and
 * interrupts it through `endNow`). `abort(reason)` aborts the upstream call — the first reason
 * wins and is `signal.reason`. `endNow(reason)` also cancels the final wait for content verdicts
 * (the client left, a shutdown, the user's stop). `identify(messageId)` makes the reply stoppable by
 * its stored id. Before `commit()` a connection that closes ends the reply (`ClientClosed`:
 * nobody knows its id, so nobody could resume it); after it only when `continueOnDisconnect` is
 * off. `release()` stops the watchdog and the lease renewal, gives the lease back and unregisters
 * the reply — called once, after the reply's final state is stored, so a shutdown that waits for
 * the registry closes the store after every reply was written.
 */
import type { ServerResponse } from 'node:http';
import { WxstreamError } from '@wxstream/protocol';
import type { Lease } from '../limits/reply-locks.ts';
import type { Logger } from '../logger.ts';
import type { ChatRouteDeps } from './chat-deps.ts';
import { createIdleWatchdog, type IdleWatchdog } from './idle-watchdog.ts';
import { keepLeaseAlive } from './lease-keeper.ts';
import { ClientClosed, ReplyStopped } from './relay.ts';
import { createReplyContentGuard, type ReplyContentGuard } from './reply-content-guard.ts';

export interface ReplyRun {
  readonly signal: AbortSignal;
  readonly guard: ReplyContentGuard;
  readonly watchdog: IdleWatchdog;
  readonly lease: Lease;
  abort(reason: Error): void;
  endNow(reason: Error): void;
  identify(messageId: string): void;
  commit(): void;
  release(): Promise<void>;
}

export interface ReplyRunOptions {
  lease: Lease;
  openid: string;
  res: ServerResponse;
  log: Logger;
}

export function startReplyRun(deps: ChatRouteDeps, options: ReplyRunOptions): ReplyRun {
  const { settings } = deps;
  const { lease, res, log } = options;
  const controller = new AbortController();
  const abort = (reason: Error) => {
    if (!controller.signal.aborted) controller.abort(reason);
  };
  const guard = createReplyContentGuard({ checker: deps.contentChecker, openid: options.openid, onStop: abort, log });
  const endNow = (reason: Error) => {
    abort(reason);
    guard.cancel();
  };
  const inFlight: { interrupt: (reason: Error) => void; messageId: string | undefined; stop: () => void } = {
    interrupt: endNow,
    messageId: undefined,
    stop: () => endNow(new ReplyStopped()),
  };
  const unregister = deps.replies.add(inFlight);
  const leaseKeeper = keepLeaseAlive({ lease, clock: deps.clock, intervalMs: settings.leaseRenewIntervalMs, log });
  let committed = false;
  const onConnectionClosed = () => {
    if (res.writableFinished) return;
    if (!committed || !settings.continueOnDisconnect) endNow(new ClientClosed());
  };
  res.once('close', onConnectionClosed);
  const watchdog = createIdleWatchdog({
    clock: deps.clock,
    timeoutMs: settings.upstreamIdleTimeoutMs,
    onIdle: () => abort(new WxstreamError('upstream_timeout', `The model sent nothing for ${settings.upstreamIdleTimeoutMs} ms`)),
  });

  return {
    signal: controller.signal,
    guard,
    watchdog,
    lease,
    abort,
    endNow,
    identify(messageId) {
      inFlight.messageId = messageId;
    },
    commit() {
      committed = true;
    },
    async release() {
      watchdog.stop();
      leaseKeeper.stop();
      res.off('close', onConnectionClosed);
      try {
        await lease.release();
      } catch (error) {
        log.warn({ err: error }, 'could not release the reply lease; it expires on its own');
      }
      unregister();
    },
  };
}
