/**
 * Assembles and starts the server: Redis when `REDIS_URL` is set (reply logs, reply locks, rate
 * limits and stop requests shared between instances; otherwise all in this process), the store
 * (PostgreSQL with `DATABASE_URL`, else SQLite; migrated, with replies a dead process left
 * `streaming` marked as interrupted), the upstream (or the embedded offline model), WeChat login
 * and content checks (or their stand-ins), limits, metrics, tokens, the Koa app, the HTTP listener
 * — and its graceful shutdown.
 *
 * Contract: `startServer` resolves once listening, to a `RunningServer` whose `shutdown()`:
 *   1. flags the server as shutting down (`/healthz` answers 503, new chats get `server_shutdown`,
 *      responses carry `Connection: close`) and stops accepting connections;
 *   2. waits up to `shutdownGraceMs` for replies in progress to finish on their own;
 *   3. interrupts the rest: each ends with an in-band `error` `server_shutdown` (retryable) and its
 *      upstream call is aborted;
 *   4. closes the remaining connections, waits (briefly) for the interrupted replies' final
 *      writes (stored, and appended to their reply logs, so a client resuming on another instance
 *      gets everything produced plus `server_shutdown`), then closes the store, the stop channel,
 *      Redis and the offline model, and resolves.
 * Calling it again returns the same promise. Clock, ids and logger are injected; a random token
 * secret is generated (with a warning) when none is configured. The start-up log says where the
 * database is, which migrations were applied, how users log in and whether content checks run.
 *
 * An instance killed without a goodbye ends none of this: its replies are ended by whichever
 * instance a client resumes them on, once their producer leases lapse (`reply-routes.ts`).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve as resolvePath } from 'node:path';
import { WxstreamError } from '@wxstream/protocol';
import { createApp, type LoginDeps } from './app.ts';
import { createTokenService } from './auth/token.ts';
import { ReplyRegistry } from './chat/reply-registry.ts';
import { localStopChannel, openRedisStopChannel, type ReplyStopChannel } from './chat/reply-stop-channel.ts';
import { createStoredUsageQuota } from './chat/stored-usage-quota.ts';
import { systemClock, type Clock } from './clock.ts';
import type { Logger } from './logger.ts';
import { ServerMetrics } from './metrics/server-metrics.ts';
import { OFFLINE_MODEL_API_KEY, startOfflineModel } from './offline-model/offline-model.ts';
import type { OpenAICompatibleEmulator } from './offline-model/openai-compatible-emulator.ts';
import { openRedis, type RedisConnections } from './redis/redis-connections.ts';
import type { ServerConfig } from './server-config.ts';
import { createStateStores } from './state-stores.ts';
import { openStore, type OpenedStore } from './storage/open-store.ts';
import { MEMORY_DATABASE_PATH } from './storage/sqlite-store.ts';
import { createConfiguredUpstream } from './upstream/create-upstream.ts';
import type { RetryTimers } from './upstream/retrying-upstream.ts';
import type { TtsProvider } from './voice/tts-provider.ts';
import { createRedisAudioMirror } from './voice/redis-audio-mirror.ts';
import { createVoiceService, type VoiceService } from './voice/voice-service.ts';
import type { CodeToSession } from './wechat/code-to-session.ts';
import { createWechatServices } from './wechat/wechat-services.ts';

export interface StartServerOptions {
  config: ServerConfig;
  logger: Logger;
  clock?: Clock;
  ids?: () => string;
  /** Waits and randomness of upstream retries (tests make them instant); default: `clock`, Math.random. */
  retryTimers?: Partial<RetryTimers>;
  /** Speaks voice replies instead of the configured provider (benchmarks, tests). */
  ttsProvider?: TtsProvider;
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
  /** Absolute path of the SQLite file, `:memory:`, or the PostgreSQL URL without its password. */
  readonly databasePath: string;
  /** Where limits and reply logs live: this process, or Redis. */
  readonly sharedState: 'memory' | 'redis';
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
  if (config.logMessageText) {
    logger.warn('LOG_MESSAGE_TEXT is on: message and reply texts are written to the logs (debugging only)');
  }

  const redis = await connectRedis(config, logger);
  let store: OpenedStore;
  try {
    store = await openConfiguredStore(config, clock, ids, logger);
  } catch (error) {
    await redis?.close();
    throw error;
  }
  let offlineModel: OpenAICompatibleEmulator | undefined;
  let closeStopChannel: (() => Promise<void>) | undefined;
  try {
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
    const metrics = new ServerMetrics({ clock, collectProcessMetrics: config.metrics.collectProcessMetrics });
    const upstream = createConfiguredUpstream({
      primary: { ...upstreamOptions, headersTimeoutMs: config.upstreamIdleTimeoutMs },
      retry: config.upstreamRetry,
      clock,
      logger,
      observer: metrics.upstreamRetries,
      ...(options.retryTimers === undefined ? {} : { timers: options.retryTimers }),
    });

    const wechat = createWechatServices({ config: config.wechat, clock, logger });
    const login = loginDeps(config, wechat.login, logger);
    logger.info(
      {
        login: login.mode,
        contentChecks: wechat.login === undefined ? 'off' : 'msgSecCheck',
        ...(wechat.login === undefined ? {} : { wechatApiBaseUrl: config.wechat.apiBaseUrl }),
      },
      wechat.login === undefined
        ? 'WeChat is not configured (WECHAT_APPID / WECHAT_SECRET unset): no WeChat login, no content checks'
        : 'WeChat login and msgSecCheck content checks are on',
    );

    const voice = createVoiceService(config.voice, {
      clock,
      tokenSecret,
      pathEnv: process.env.PATH,
      ...(options.ttsProvider === undefined ? {} : { provider: options.ttsProvider }),
      ...(redis === undefined ? {} : { mirror: createRedisAudioMirror({ commands: redis.commands, keyPrefix: config.redis.keyPrefix, clock, log: logger }) }),
    });
    logVoice(voice, logger);

    const { limits } = config;
    const shared = createStateStores({
      clock,
      limits,
      replyLog: config.replyLog,
      ...(redis === undefined ? {} : { redis: { connections: redis, keyPrefix: config.redis.keyPrefix } }),
    });
    const admission = {
      rateLimiter: shared.rateLimiter,
      // The quota counts stored usage: with DATABASE_URL the store is shared, so it holds across instances.
      quota: createStoredUsageQuota({ store, clock, dailyTokens: limits.dailyTokenQuota, utcOffsetMinutes: limits.quotaUtcOffsetMinutes }),
      locks: shared.locks,
      onRefused: (limit: 'rate' | 'quota' | 'reply_in_progress') => metrics.limitRefused(limit),
    };

    const replies = new ReplyRegistry();
    const stopChannel: ReplyStopChannel =
      redis === undefined ? localStopChannel(replies) : await openRedisStopChannel({ connections: redis, keyPrefix: config.redis.keyPrefix, registry: replies });
    closeStopChannel = () => stopChannel.close();
    const lifecycle = { shuttingDown: false };
    const app = createApp({
      logger,
      clock,
      ids,
      tokens: createTokenService({ secret: tokenSecret, ttlSeconds: config.tokenTtlSeconds, clock }),
      login,
      upstream,
      store,
      admission,
      contentChecker: wechat.contentChecker,
      metrics,
      metricsToken: config.metrics.token,
      replies,
      replyLog: shared.replyLog,
      stopChannel,
      lifecycle,
      voice,
      producerCheckIntervalMs: config.replyLog.producerCheckIntervalMs,
      settings: {
        maxBodyBytes: config.maxBodyBytes,
        maxMessageChars: config.maxMessageChars,
        heartbeatIntervalMs: config.heartbeatIntervalMs,
        upstreamIdleTimeoutMs: config.upstreamIdleTimeoutMs,
        maxConversationMessages: limits.maxConversationMessages,
        maxContextTokens: limits.maxContextTokens,
        systemPrompt: limits.systemPrompt,
        leaseRenewIntervalMs: Math.max(1, Math.floor(limits.replyLockTtlMs / 3)),
        checkpointIntervalMs: config.storage.checkpointIntervalMs,
        checkpointChars: config.storage.checkpointChars,
        logMessageText: config.logMessageText,
        continueOnDisconnect: config.continueOnDisconnect,
      },
    });

    const httpServer = createServer({ noDelay: true }, app.callback());
    await new Promise<void>((resolve, reject) => {
      httpServer.once('error', reject);
      httpServer.listen(config.port, config.host, () => {
        httpServer.off('error', reject);
        resolve();
      });
    });
    const { port, address, family } = httpServer.address() as AddressInfo;
    const reachableHost = address === '0.0.0.0' || address === '::' ? '127.0.0.1' : family === 'IPv6' ? `[${address}]` : address;
    const url = `http://${reachableHost}:${port}`;
    logger.info({ url, host: config.host, port }, 'listening');

    const runningOffline = offlineModel;
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
      // Replies cut off with their connections store their ending now; a reply that still has not
      // (stuck in a write) is marked interrupted at the next start.
      await Promise.race([replies.whenIdle(), delay(clock, INTERRUPT_FLUSH_MS)]);
      await store.close();
      await stopChannel.close();
      await redis?.close();
      await runningOffline?.close();
      logger.info('shutdown complete');
    };

    let shutdownPromise: Promise<void> | undefined;
    return {
      url,
      port,
      httpServer,
      upstream: upstreamDescription,
      databasePath: store.location,
      sharedState: shared.kind,
      get activeReplies() {
        return replies.size;
      },
      shutdown() {
        shutdownPromise ??= shutdown();
        return shutdownPromise;
      },
    };
  } catch (error) {
    await offlineModel?.close();
    await store.close();
    await closeStopChannel?.();
    await redis?.close();
    throw error;
  }
}

async function connectRedis(config: ServerConfig, logger: Logger): Promise<RedisConnections | undefined> {
  const { url, keyPrefix } = config.redis;
  if (url === undefined) return undefined;
  const connections = await openRedis({ url, onError: (error) => logger.warn({ err: error }, 'Redis connection error; reconnecting') });
  logger.info({ keyPrefix }, 'Redis connected: reply locks, rate limits and reply logs are shared between instances');
  return connections;
}

/** How long a reply another server is generating may go without a store write before it counts as dead. */
const LIVE_REPLY_MARGIN_MS = 60_000;

async function openConfiguredStore(config: ServerConfig, clock: Clock, ids: () => string, logger: Logger): Promise<OpenedStore> {
  const configured = config.storage.databasePath;
  const path = configured === MEMORY_DATABASE_PATH ? configured : resolvePath(configured);
  const store = await openStore(
    { databaseUrl: config.storage.databaseUrl, databasePath: path },
    { clock, ids, onIdleConnectionError: (error) => logger.warn({ err: error }, 'database connection dropped while idle; replaced') },
  );
  try {
    // One process owns a SQLite file, so every reply still `streaming` was cut off by the last one's
    // death; a shared PostgreSQL may hold live replies of other servers, so only stale ones count.
    const interrupted =
      store.engine === 'postgres'
        ? await store.markInterruptedReplies({
            updatedBefore: clock.now() - (config.storage.checkpointIntervalMs + config.upstreamIdleTimeoutMs + LIVE_REPLY_MARGIN_MS),
          })
        : await store.markInterruptedReplies();
    const fields = { engine: store.engine, databasePath: store.location, appliedMigrations: store.appliedMigrations, interruptedReplies: interrupted };
    if (path === MEMORY_DATABASE_PATH && store.engine === 'sqlite') logger.warn(fields, 'database is in memory: conversations are lost when the server stops');
    else logger.info(fields, 'database ready');
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}

function logVoice(voice: VoiceService | undefined, logger: Logger): void {
  if (voice === undefined) logger.info({ voice: 'off' }, 'voice replies are off (VOICE_PROVIDER=off)');
  else if (voice.unavailableReason !== undefined) {
    logger.warn({ voice: voice.provider.id, reason: voice.unavailableReason }, 'voice replies are unavailable: replies that ask for voice are not spoken');
  } else logger.info({ voice: voice.provider.id, defaultVoice: voice.provider.defaultVoice }, 'voice replies are on');
}

function loginDeps(config: ServerConfig, exchange: CodeToSession | undefined, logger: Logger): LoginDeps {
  if (config.login === 'wechat' && exchange !== undefined) {
    if (config.devLoginOverridden) logger.warn('DEV_LOGIN=true is ignored: WeChat credentials are configured, so only WeChat login is offered');
    return { mode: 'wechat', exchange };
  }
  if (config.login === 'dev') {
    logger.warn(
      { login: 'dev' },
      'development mode: POST /api/auth/login accepts ANY code as user dev:<code>, with no WeChat check. ' +
        'Set WECHAT_APPID and WECHAT_SECRET for real logins (or DEV_LOGIN=false to refuse logins)',
    );
    return { mode: 'dev' };
  }
  logger.warn('no login is available: WeChat is not configured and DEV_LOGIN is off; POST /api/auth/login answers 403 dev_login_disabled');
  return { mode: 'disabled' };
}
