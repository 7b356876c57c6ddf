/**
 * Assembles and starts the server: upstream (or the embedded offline model), tokens, the Koa app,
 * the HTTP listener — and its graceful shutdown.
 *
 * Contract: `startServer` resolves once listening, to a `RunningServer` whose `shutdown()`:
 *   1. flags the server as shutting down (`/healthz` answers 503, new chats get `server_shutdown`,
 *      responses carry `Connection: close`) and stops accepting connections;
 *   2. waits up to `shutdownGraceMs` for replies in progress to finish on their own;
 *   3. interrupts the rest: each ends with an in-band `error` `server_shutdown` (retryable) and its
 *      upstream call is aborted;
 *   4. closes the remaining connections and the offline model, then resolves.
 * Calling it again returns the same promise. Clock, ids and logger are injected; a random token
 * secret is generated (with a warning) when none is configured.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WxstreamError } from '@wxstream/protocol';
import { createApp } from './app.ts';
import { createTokenService } from './auth/token.ts';
import { ReplyRegistry } from './chat/reply-registry.ts';
import { systemClock, type Clock } from './clock.ts';
import type { Config } from './config.ts';
import type { Logger } from './logger.ts';
import { OFFLINE_MODEL_API_KEY, startOfflineModel } from './offline-model/offline-model.ts';
import type { OpenAICompatibleEmulator } from './offline-model/openai-compatible-emulator.ts';
import { createOpenAIUpstream } from './upstream/openai-upstream.ts';

export interface StartServerOptions {
  config: Config;
  logger: Logger;
  clock?: Clock;
  ids?: () => string;
}

export interface UpstreamDescription {
  readonly kind: 'offline' | 'openai-compatible';
  /** Undefined means the SDK's default (api.openai.com). */
  readonly baseURL: string | undefined;
  readonly model: string;
}

export interface RunningServer {
  /** `http://host:port` as reachable from this machine. */
  readonly url: string;
  readonly port: number;
  readonly httpServer: Server;
  readonly upstream: UpstreamDescription;
  /** Replies currently in flight. */
  readonly activeReplies: number;
  shutdown(): Promise<void>;
}

/** How long interrupted replies get to write their final event before connections are cut. */
const INTERRUPT_FLUSH_MS = 2000;

function delay(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, ms));
}

export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const { config, logger } = options;
  const clock = options.clock ?? systemClock;
  const ids = options.ids ?? randomUUID;

  let tokenSecret: string | Buffer | undefined = config.tokenSecret;
  if (tokenSecret === undefined) {
    tokenSecret = randomBytes(32);
    logger.warn('TOKEN_SECRET is not set: using a random secret, so tokens will not survive a restart');
  }
  if (config.devLogin) {
    logger.warn('development mode: POST /api/auth/login accepts any code (set DEV_LOGIN=false to disable)');
  }

  let offlineModel: OpenAICompatibleEmulator | undefined;
  let upstreamDescription: UpstreamDescription;
  let upstreamOptions: { apiKey: string | undefined; baseURL: string | undefined; model: string };
  if (config.upstream.kind === 'offline') {
    offlineModel = await startOfflineModel({ model: config.upstream.model, chunkDelayMs: config.upstream.chunkDelayMs });
    upstreamOptions = { apiKey: OFFLINE_MODEL_API_KEY, baseURL: offlineModel.baseURL, model: config.upstream.model };
    upstreamDescription = { kind: 'offline', baseURL: offlineModel.baseURL, model: config.upstream.model };
    logger.warn(
      { upstream: 'offline', baseURL: offlineModel.baseURL, model: config.upstream.model },
      'no model configured (OPENAI_API_KEY / OPENAI_BASE_URL unset): replies come from the built-in offline model',
    );
  } else {
    upstreamOptions = { apiKey: config.upstream.apiKey, baseURL: config.upstream.baseURL, model: config.upstream.model };
    upstreamDescription = { kind: 'openai-compatible', baseURL: config.upstream.baseURL, model: config.upstream.model };
    logger.info(
      {
        upstream: 'openai-compatible',
        baseURL: config.upstream.baseURL ?? 'https://api.openai.com/v1 (SDK default)',
        model: config.upstream.model,
        apiKey: config.upstream.apiKey === undefined ? 'not set' : 'set',
      },
      'using an OpenAI-compatible model provider',
    );
  }
  const upstream = createOpenAIUpstream({ ...upstreamOptions, headersTimeoutMs: config.upstreamIdleTimeoutMs });

  const replies = new ReplyRegistry();
  const lifecycle = { shuttingDown: false };
  const app = createApp({
    logger,
    clock,
    ids,
    tokens: createTokenService({ secret: tokenSecret, ttlSeconds: config.tokenTtlSeconds, clock }),
    upstream,
    replies,
    lifecycle,
    settings: config,
  });

  const httpServer = createServer({ noDelay: true }, app.callback());
  try {
    await new Promise<void>((resolve, reject) => {
      httpServer.once('error', reject);
      httpServer.listen(config.port, config.host, () => {
        httpServer.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await offlineModel?.close();
    throw error;
  }
  const { port, address, family } = httpServer.address() as AddressInfo;
  const reachableHost = address === '0.0.0.0' || address === '::' ? '127.0.0.1' : family === 'IPv6' ? `[${address}]` : address;
  const url = `http://${reachableHost}:${port}`;
  logger.info({ url, host: config.host, port }, 'listening');

  let shutdownPromise: Promise<void> | undefined;
  const shutdown = async (): Promise<void> => {
    lifecycle.shuttingDown = true;
    const inFlight = replies.size;
    logger.info({ inFlight, graceMs: config.shutdownGraceMs }, 'shutting down: no new connections, waiting for replies in progress');
    const closed = new Promise<void>((resolve) => httpServer.close(() => resolve()));
    httpServer.closeIdleConnections();

    const finishedInTime = await Promise.race([
      replies.whenIdle().then(() => true),
      delay(clock, config.shutdownGraceMs).then(() => false),
    ]);
    if (!finishedInTime) {
      logger.warn({ interrupted: replies.size }, 'grace period over: ending the remaining replies with server_shutdown');
      replies.interruptAll(new WxstreamError('server_shutdown', 'The server is shutting down; please retry'));
      await Promise.race([replies.whenIdle(), delay(clock, INTERRUPT_FLUSH_MS)]);
    }
    // Let the final frames leave before cutting what is left (keep-alive sockets, slow readers).
    httpServer.closeIdleConnections();
    await Promise.race([closed, delay(clock, INTERRUPT_FLUSH_MS)]);
    httpServer.closeAllConnections();
    await closed;
    await offlineModel?.close();
    logger.info('shutdown complete');
  };

  return {
    url,
    port,
    httpServer,
    upstream: upstreamDescription,
    get activeReplies() {
      return replies.size;
    },
    shutdown() {
      shutdownPromise ??= shutdown();
      return shutdownPromise;
    },
  };
}
