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
 * Calling it again returns the same promise (`startup/graceful-shutdown.ts`). Clock, ids and logger
 * are injected; a random token secret is generated (with a warning) when none is configured. The
 * start-up log says where the database is, which migrations were applied, how users log in and
 * whether content checks run. A start-up that fails half-way closes what it had opened.
 *
 * Start-up reads as its steps, each in `startup/`: the token secret, Redis, the store, the model
 * provider, the upstream client, WeChat and login, voice, the shared state (limits, reply logs,
 * locks), the stop channel, the app, the listener, and the shutdown.
 *
 * An instance killed without a goodbye ends none of this: its replies are ended by whichever
 * instance a client resumes them on, once their producer leases lapse (`reply-routes.ts`).
 */
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { createApp } from './app.ts';
import { createTokenService } from './auth/token.ts';
import { ReplyRegistry } from './chat/reply-registry.ts';
import { localStopChannel, openRedisStopChannel, type ReplyStopChannel } from './chat/reply-stop-channel.ts';
import { createStoredUsageQuota } from './chat/stored-usage-quota.ts';
import { systemClock, type Clock } from './clock.ts';
import { ConnectionGate } from './http/connection-gate.ts';
import type { ReplyAdmissionDeps } from './limits/reply-admission.ts';
import { StreamSlots } from './limits/stream-slots.ts';
import type { Logger } from './logger.ts';
import { ServerMetrics, type LimitKind } from './metrics/server-metrics.ts';
import type { RedisConnections } from './redis/redis-connections.ts';
import type { ServerConfig } from './server-config.ts';
import { createStateStores, type StateStores } from './state-stores.ts';
import { chatSettingsFrom } from './startup/chat-settings.ts';
import { openConfiguredStore } from './startup/configured-store.ts';
import { gracefulShutdown } from './startup/graceful-shutdown.ts';
import { listen } from './startup/http-listener.ts';
import { loginDeps } from './startup/login-deps.ts';
import { startModelProvider, type UpstreamDescription } from './startup/model-provider.ts';
import { connectRedis } from './startup/redis-connection.ts';
import { StartupResources } from './startup/startup-resources.ts';
import { tokenSecretFor } from './startup/token-secret.ts';
import { startTranscription } from './startup/transcription-startup.ts';
import { startVoice } from './startup/voice-startup.ts';
import type { ConversationStore } from './storage/conversation-store.ts';
import { createConfiguredUpstream } from './upstream/create-upstream.ts';
import type { RetryTimers } from './upstream/retrying-upstream.ts';
import type { Transcriber } from './transcription/transcriber.ts';
import type { TtsProvider } from './voice/tts-provider.ts';
import { createWechatServices } from './wechat/wechat-services.ts';

export type { UpstreamDescription } from './startup/model-provider.ts';

export interface StartServerOptions {
  config: ServerConfig;
  logger: Logger;
  clock?: Clock;
  ids?: () => string;
  /** Waits and randomness of upstream retries (tests make them instant); default: `clock`, Math.random. */
  retryTimers?: Partial<RetryTimers>;
  /** Speaks voice replies instead of the configured provider (benchmarks, tests). */
  ttsProvider?: TtsProvider;
  /** Transcribes voice input instead of the configured provider (benchmarks, tests). */
  transcriber?: Transcriber;
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

export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const { config, logger } = options;
  const clock = options.clock ?? systemClock;
  const ids = options.ids ?? randomUUID;
  const tokenSecret = tokenSecretFor(config, logger);
  if (config.logMessageText) {
    logger.warn('LOG_MESSAGE_TEXT is on: message and reply texts are written to the logs (debugging only)');
  }

  const opened = new StartupResources();
  try {
    const redis = opened.hold(await connectRedis(config, logger), async (connections) => connections?.close());
    const store = opened.hold(await openConfiguredStore(config, clock, ids, logger), (s) => s.close());
    const provider = await startModelProvider(config, logger);
    opened.hold(provider.offlineModel, async (model) => model?.close());
    const metrics = new ServerMetrics({ clock, collectProcessMetrics: config.metrics.collectProcessMetrics });
    const upstream = createConfiguredUpstream({
      primary: { ...provider.connection, headersTimeoutMs: config.upstreamIdleTimeoutMs },
      retry: config.upstreamRetry,
      clock,
      logger,
      observer: metrics.upstreamRetries,
      ...(options.retryTimers === undefined ? {} : { timers: options.retryTimers }),
    });
    const wechat = createWechatServices({ config: config.wechat, clock, logger });
    const login = loginDeps(config, wechat.login, logger);
    const voice = startVoice({ config, clock, logger, tokenSecret, redis, ttsProvider: options.ttsProvider });
    const transcription = startTranscription({ config, clock, logger, redis, transcriber: options.transcriber });
    const shared = createStateStores({
      clock,
      limits: config.limits,
      replyLog: config.replyLog,
      requests: config.requests,
      ...(redis === undefined ? {} : { redis: { connections: redis, keyPrefix: config.redis.keyPrefix } }),
    });
    const replies = new ReplyRegistry();
    const refused = (limit: LimitKind) => metrics.limitRefused(limit);
    const connections = new ConnectionGate({ maxConnections: config.http.maxConnections, onRefused: refused });
    const stopChannel = opened.hold(await openStopChannel(config, redis, replies), (channel) => channel.close());
    const lifecycle = { shuttingDown: false };
    const app = createApp({
      logger,
      clock,
      ids,
      tokens: createTokenService({ secret: tokenSecret, ttlSeconds: config.tokenTtlSeconds, clock }),
      login,
      upstream,
      store,
      admission: replyAdmission(config, store, shared, metrics, clock),
      shareRateLimiter: shared.shareRateLimiter,
      doors: {
        trustProxy: config.http.trustProxy,
        loginRate: shared.rateLimiterFor(config.limits.loginRate),
        publicRate: shared.rateLimiterFor(config.limits.publicRate),
        apiRate: shared.rateLimiterFor(config.limits.apiRate),
        streams: new StreamSlots({ maxPerUser: config.limits.maxStreamsPerUser, maxPerReply: config.limits.maxReadersPerReply }),
        connections: connections.admit,
      },
      contentChecker: wechat.contentChecker,
      metrics,
      metricsToken: config.metrics.token,
      replies,
      replyLog: shared.replyLog,
      stopChannel,
      lifecycle,
      voice,
      transcription,
      producerCheckIntervalMs: config.replyLog.producerCheckIntervalMs,
      requests: shared.requests,
      requestSettings: config.requests,
      settings: chatSettingsFrom(config),
    });
    const { httpServer, url, port } = await listen(app.callback(), config, connections, logger);

    const shutdown = gracefulShutdown({
      httpServer,
      replies,
      lifecycle,
      clock,
      logger,
      graceMs: config.shutdownGraceMs,
      closers: [() => store.close(), () => stopChannel.close(), async () => redis?.close(), async () => provider.offlineModel?.close()],
    });
    let shutdownPromise: Promise<void> | undefined;
    return {
      url,
      port,
      httpServer,
      upstream: provider.description,
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
    await opened.closeAll();
    throw error;
  }
}

/** The gate before a reply: limits shared through Redis or kept here, and the quota from stored usage. */
function replyAdmission(config: ServerConfig, store: ConversationStore, shared: StateStores, metrics: ServerMetrics, clock: Clock): ReplyAdmissionDeps {
  const { limits } = config;
  return {
    rateLimiter: shared.rateLimiter,
    // The quota counts stored usage: with DATABASE_URL the store is shared, so it holds across instances.
    quota: createStoredUsageQuota({ store, clock, dailyTokens: limits.dailyTokenQuota, utcOffsetMinutes: limits.quotaUtcOffsetMinutes }),
    locks: shared.locks,
    ...(shared.replyLogHasRoom === undefined ? {} : { replyLogHasRoom: shared.replyLogHasRoom }),
    onRefused: (limit) => metrics.limitRefused(limit),
  };
}

/** Stop requests reach the instance generating the reply: through Redis, or within this process. */
async function openStopChannel(config: ServerConfig, redis: RedisConnections | undefined, replies: ReplyRegistry): Promise<ReplyStopChannel> {
  if (redis === undefined) return localStopChannel(replies);
  return openRedisStopChannel({ connections: redis, keyPrefix: config.redis.keyPrefix, registry: replies });
}
