/**
 * The server's graceful shutdown, in the order its contract promises (`start-server.ts`):
 *   1. flag the server as shutting down (`/healthz` answers 503, new chats get `server_shutdown`,
 *      responses carry `Connection: close`) and stop accepting connections;
 *   2. wait up to `graceMs` for the replies in progress to finish on their own;
 *   3. interrupt the rest: each ends with an in-band `error` `server_shutdown` and its upstream
 *      call is aborted;
 *   4. let the final frames leave, cut the remaining connections, wait (briefly) for the
 *      interrupted replies' final writes, then close the store, the stop channel, Redis and the
 *      offline model.
 * `gracefulShutdown` returns the function that does this; it is run once per server (the caller
 * keeps the promise).
 */
import type { Server } from 'node:http';
import { WxstreamError } from '@wxstream/protocol';
import type { ReplyRegistry } from '../chat/reply-registry.ts';
import type { Clock } from '../clock.ts';
import type { Logger } from '../logger.ts';

/** How long interrupted replies get to write their final event before connections are cut. */
const INTERRUPT_FLUSH_MS = 2000;

export interface ShutdownParts {
  httpServer: Server;
  replies: ReplyRegistry;
  lifecycle: { shuttingDown: boolean };
  clock: Clock;
  logger: Logger;
  graceMs: number;
  /** Closed in this order once every reply has ended or been cut off. */
  closers: ReadonlyArray<() => Promise<void>>;
}

export function gracefulShutdown(parts: ShutdownParts): () => Promise<void> {
  const { httpServer, replies, clock, logger } = parts;
  const delay = (ms: number) => new Promise<void>((resolve) => clock.setTimeout(resolve, ms));
  return async () => {
    parts.lifecycle.shuttingDown = true;
    logger.info({ inFlight: replies.size, graceMs: parts.graceMs }, 'shutting down: no new connections, waiting for replies in progress');
    const closed = new Promise<void>((resolve) => httpServer.close(() => resolve()));
    httpServer.closeIdleConnections();

    const finishedInTime = await Promise.race([replies.whenIdle().then(() => true), delay(parts.graceMs).then(() => false)]);
    if (!finishedInTime) {
      logger.warn({ interrupted: replies.size }, 'grace period over: ending the remaining replies with server_shutdown');
      replies.interruptAll(new WxstreamError('server_shutdown', 'The server is shutting down; please retry'));
      await Promise.race([replies.whenIdle(), delay(INTERRUPT_FLUSH_MS)]);
    }
    // Let the final frames leave before cutting what is left (keep-alive sockets, slow readers).
    httpServer.closeIdleConnections();
    await Promise.race([closed, delay(INTERRUPT_FLUSH_MS)]);
    httpServer.closeAllConnections();
    await closed;
    // Replies cut off with their connections store their ending now; a reply that still has not
    // (stuck in a write) is marked interrupted at the next start.
    await Promise.race([replies.whenIdle(), delay(INTERRUPT_FLUSH_MS)]);
    for (const close of parts.closers) await close();
    logger.info('shutdown complete');
  };
}
