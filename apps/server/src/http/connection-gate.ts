/**
 * The listener's limits: how long a client may take to send its request, and how many connections
 * are served at once (`http-config.ts` has the settings).
 *
 * Contract: `listenerOptions(config)` are the `node:http` server options that bound slow clients —
 * `headersTimeout` (a connection that has not finished its headers in time gets 408 and is
 * closed; the slow-loris defence), `requestTimeout` (the same for the whole request, body
 * included — never the response, so reply streams are not cut), `keepAliveTimeout`, and a
 * `connectionsCheckingInterval` short enough that those timeouts are enforced close to their
 * value rather than up to Node's default 30 s late. `ConnectionGate.attach(server)` counts open
 * connections: one past `maxConnections` is still read, but its request is answered 503
 * `server_busy` with `Retry-After` and `Connection: close` by `gate.admit` (a clear answer beats a
 * reset, and reading stays bounded by the timeouts above); past a hard ceiling above that
 * (`maxConnections` + an eighth, at least 16) Node closes new connections at once without an
 * answer, so a flood cannot spend the process's file descriptors. Both refusals are counted.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Middleware } from 'koa';
import type { AppState } from '../app-state.ts';
import { LimitExceededError } from '../limits/limit-exceeded-error.ts';
import type { LimitKind } from '../metrics/server-metrics.ts';
import type { HttpConfig } from './http-config.ts';

/** A busy server asks for a short pause: connections free up as streams end. */
const BUSY_RETRY_AFTER_MS = 5000;

export function listenerOptions(config: HttpConfig): {
  headersTimeout: number;
  requestTimeout: number;
  keepAliveTimeout: number;
  connectionsCheckingInterval: number;
} {
  return {
    headersTimeout: config.headersTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
    keepAliveTimeout: config.keepAliveTimeoutMs,
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(config.headersTimeoutMs / 4))),
  };
}

export function hardConnectionCeiling(maxConnections: number): number {
  return maxConnections + Math.max(16, Math.floor(maxConnections / 8));
}

export class ConnectionGate {
  readonly #max: number;
  readonly #onRefused: (limit: LimitKind) => void;
  readonly #overflow = new WeakSet<Socket>();
  #open = 0;

  constructor(options: { maxConnections: number; onRefused: (limit: LimitKind) => void }) {
    this.#max = options.maxConnections;
    this.#onRefused = options.onRefused;
  }

  attach(server: Server): void {
    server.maxConnections = hardConnectionCeiling(this.#max);
    server.on('drop', () => this.#onRefused('connections_dropped'));
    server.on('connection', (socket: Socket) => {
      this.#open += 1;
      if (this.#open > this.#max) this.#overflow.add(socket);
      socket.once('close', () => {
        this.#open -= 1;
      });
    });
  }

  /** Answers requests on connections past the cap with 503 `server_busy`. */
  readonly admit: Middleware<AppState> = async (ctx, next) => {
    if (this.#overflow.has(ctx.req.socket)) {
      this.#onRefused('connections');
      ctx.set('Connection', 'close');
      throw new LimitExceededError('server_busy', `The server holds its cap of ${this.#max} connections (MAX_CONNECTIONS)`, { retryAfterMs: BUSY_RETRY_AFTER_MS });
    }
    await next();
  };
}
