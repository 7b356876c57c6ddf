/**
 * Builds the Koa application from its dependencies; never listens.
 *
 * Contract: everything with I/O or state (upstream, store, limits, content checker, WeChat login,
 * metrics, tokens, clock, ids, the in-flight replies, the lifecycle flag) is passed in, so tests
 * and `start-server` assemble the same app. Routes: `GET /healthz`, `GET /metrics`,
 * `POST /api/auth/login` (WeChat login, development login, or 403 `dev_login_disabled`),
 * `POST /api/chat`, the reply routes (`GET /api/chat/:messageId/events` to resume,
 * `POST /api/chat/:messageId/stop`), the signed audio of voice replies (`GET /api/audio/:id`, when
 * voice is on), voice input (`POST`/`GET /api/transcriptions`), the conversation routes (with turn versions and paging), feedback on replies
 * (`PUT /api/messages/:messageId/feedback`) and shares (`/api/conversations/:id/shares`,
 * `GET`/`DELETE /api/shares/:shareId` — reading one needs no token). Every non-2xx answer is the protocol's JSON
 * error body; no middleware here compresses anything.
 *
 * Every door is limited (`doors`): requests on connections past MAX_CONNECTIONS are answered 503
 * `server_busy`; logins are rate-limited per client address, other requests without a valid token
 * too (`/healthz` aside); authenticated routes other than the chat per user; reply streams (chats
 * and resumes) per user and resumes per reply. Every answer carries the security headers
 * (`http/security-headers.ts`).
 */
import Koa, { type Middleware } from 'koa';
import { Router } from '@koa/router';
import { ROUTES, WxstreamError } from '@wxstream/protocol';
import type { AppState } from './app-state.ts';
import { devLogin } from './auth/dev-login.ts';
import { requireAuth } from './auth/require-auth.ts';
import type { TokenService } from './auth/token.ts';
import { wechatLogin } from './auth/wechat-login.ts';
import { chatRoute, type ChatSettings } from './chat/chat-route.ts';
import type { ReplyRegistry } from './chat/reply-registry.ts';
import { mountReplyRoutes } from './chat/reply-routes.ts';
import type { ReplyStopChannel } from './chat/reply-stop-channel.ts';
import type { Clock } from './clock.ts';
import { mountConversationRoutes } from './conversations/conversation-routes.ts';
import { mountFeedbackRoute } from './conversations/feedback-route.ts';
import { mountShareRoutes } from './conversations/share-routes.ts';
import type { ProxyTrust } from './http/client-address.ts';
import { clientFault, clientFaultFields } from './http/client-faults.ts';
import { errorHandler } from './http/error-handler.ts';
import { requestId } from './http/request-id.ts';
import { securityHeaders } from './http/security-headers.ts';
import type { RateLimiter } from './limits/rate-limiter.ts';
import type { ReplyAdmissionDeps } from './limits/reply-admission.ts';
import { addressRateLimits, chargeFailedAuth, userRateLimit } from './limits/request-rate-limits.ts';
import { holdStreamSlot, streamSlot, type StreamSlots } from './limits/stream-slots.ts';
import type { Logger } from './logger.ts';
import { METRICS_ROUTE, metricsHandler } from './metrics/metrics-handler.ts';
import type { LimitKind, ServerMetrics } from './metrics/server-metrics.ts';
import { mountTranscriptionRoutes } from './transcription/transcription-route.ts';
import type { TranscriptionService } from './transcription/transcription-service.ts';
import type { ReplyLog } from './reply-log/reply-log.ts';
import type { LoginMode } from './server-config.ts';
import type { ConversationStore } from './storage/conversation-store.ts';
import type { UpstreamModel } from './upstream/upstream-model.ts';
import type { CodeToSession } from './wechat/code-to-session.ts';
import { audioRoute } from './voice/audio-route.ts';
import type { VoiceService } from './voice/voice-service.ts';
import type { ContentChecker } from './wechat/content-checker.ts';
import { mountRequestRoutes } from './chat/request-routes.ts';
import { messageSpeechRoute } from './voice/message-speech-route.ts';
import { DEFAULT_REQUESTS, type RequestConfig } from './requests/request-config.ts';
import type { RequestLedger } from './requests/request-ledger.ts';

export interface Lifecycle {
  readonly shuttingDown: boolean;
}

/** How `POST /api/auth/login` answers. */
export type LoginDeps = { mode: 'wechat'; exchange: CodeToSession } | { mode: Exclude<LoginMode, 'wechat'> };

export interface AppDeps {
  logger: Logger;
  clock: Clock;
  ids: () => string;
  tokens: TokenService;
  login: LoginDeps;
  upstream: UpstreamModel;
  store: ConversationStore;
  admission: ReplyAdmissionDeps;
  /** Counts share creations per user (`SHARE_RATE_LIMIT_*`). */
  shareRateLimiter: RateLimiter;
  contentChecker: ContentChecker;
  metrics: ServerMetrics;
  metricsToken: string | undefined;
  replies: ReplyRegistry;
  replyLog: ReplyLog;
  stopChannel: ReplyStopChannel;
  lifecycle: Lifecycle;
  settings: ChatSettings;
  /** Undefined when voice is off (`VOICE_PROVIDER=off`). */
  voice: VoiceService | undefined;
  /** Voice input (`POST /api/transcriptions`); answers `stt_unavailable` when off. */
  transcription: TranscriptionService;
  /** Silence after which a resume checks that the reply's producer still lives (`REPLY_PRODUCER_CHECK_INTERVAL_MS`). */
  producerCheckIntervalMs: number;
  /** Client-named requests; without it a `requestId` is ignored and the stop-by-request route is absent. */
  requests?: RequestLedger;
  /** Polling delivery and stops by request (defaults: `DEFAULT_REQUESTS`). */
  requestSettings?: RequestConfig;
  /** What limits every door: who is a proxy, the rate limits, the stream and connection caps. */
  doors: AppDoors;
}

/** The limits at the doors (`limits/request-rate-limits.ts`, `limits/stream-slots.ts`, `http/connection-gate.ts`). */
export interface AppDoors {
  trustProxy: ProxyTrust;
  /** Per client address on `POST /api/auth/login`. */
  loginRate: RateLimiter;
  /** Per client address on every other request without a valid token (not `/healthz`). */
  publicRate: RateLimiter;
  /** Per user on the authenticated routes other than `POST /api/chat`. */
  apiRate: RateLimiter;
  streams: StreamSlots;
  /** Answers requests on connections past `MAX_CONNECTIONS`; none when the app is not behind our listener. */
  connections: Middleware<AppState> | undefined;
}

export function createApp(deps: AppDeps): Koa<AppState> {
  const app = new Koa<AppState>();
  const router = new Router<AppState>();
  const { settings } = deps;
  const requestSettings = deps.requestSettings ?? DEFAULT_REQUESTS;

  router.get(ROUTES.health, (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    if (deps.lifecycle.shuttingDown) {
      ctx.status = 503;
      ctx.body = { status: 'shutting_down' };
    } else {
      ctx.body = { status: 'ok' };
    }
  });

  router.get(METRICS_ROUTE, metricsHandler<AppState>(deps.metrics, { token: deps.metricsToken }));

  const login = deps.login;
  router.post(
    ROUTES.login,
    login.mode === 'wechat'
      ? wechatLogin({ login: login.exchange, tokens: deps.tokens, store: deps.store, maxBodyBytes: settings.maxBodyBytes })
      : login.mode === 'dev'
        ? devLogin({ tokens: deps.tokens, maxBodyBytes: settings.maxBodyBytes })
        : () => {
            throw new WxstreamError('dev_login_disabled', 'No WeChat credentials are configured and the development login is off');
          },
  );

  const { doors } = deps;
  const refused = (limit: LimitKind) => deps.metrics.limitRefused(limit);
  // A refused token spends the address's public limit, like no token (junk tokens are not a bypass).
  const authenticated = chargeFailedAuth(requireAuth({ tokens: deps.tokens, store: deps.store, acceptDevIdentities: login.mode === 'dev' }), {
    public: doors.publicRate,
    onRefused: refused,
  });
  const authenticatedApi = inOrder(authenticated, userRateLimit(doors.apiRate, refused));
  const holdSlot = holdStreamSlot(doors.streams, refused);

  router.post(
    ROUTES.chat,
    async (_ctx, next) => {
      if (deps.lifecycle.shuttingDown) throw new WxstreamError('server_shutdown', 'The server is shutting down');
      await next();
    },
    authenticated,
    streamSlot(holdSlot),
    chatRoute({
      upstream: deps.upstream,
      replies: deps.replies,
      replyLog: deps.replyLog,
      store: deps.store,
      admission: deps.admission,
      contentChecker: deps.contentChecker,
      metrics: deps.metrics,
      clock: deps.clock,
      ids: deps.ids,
      settings,
      voice: deps.voice,
      ...(deps.requests === undefined ? {} : { requests: deps.requests }),
    }),
  );

  // No Authorization here: the audio player cannot send one, so each URL carries its own signature.
  if (deps.voice !== undefined) router.get(ROUTES.audio, audioRoute(deps.voice.audio, deps.voice.signer));

  // Whichever route finds a reply whose instance died ends it the same way (abandoned-reply.ts).
  const abandoned = { replyLog: deps.replyLog, store: deps.store, metrics: deps.metrics, locks: deps.admission.locks };

  mountReplyRoutes(router, authenticatedApi, {
    holdStreamSlot: holdSlot,
    replyLog: deps.replyLog,
    stopChannel: deps.stopChannel,
    clock: deps.clock,
    heartbeatIntervalMs: settings.heartbeatIntervalMs,
    producerCheckIntervalMs: deps.producerCheckIntervalMs,
    abandoned,
    lifecycle: deps.lifecycle,
    pollWaitMs: requestSettings.pollWaitMs,
  });

  // Voice input has its own per-user limit (STT_RATE_LIMIT_*), as the chat has.
  mountTranscriptionRoutes(router, authenticated, { service: deps.transcription, clock: deps.clock });

  if (deps.requests !== undefined) {
    mountRequestRoutes(router, authenticatedApi, {
      requests: deps.requests,
      replyLog: deps.replyLog,
      stopChannel: deps.stopChannel,
      abandoned,
      clock: deps.clock,
      settleWaitMs: requestSettings.stopSettleWaitMs,
    });
  }

  router.post(
    ROUTES.messageSpeech,
    authenticatedApi,
    streamSlot(holdSlot),
    messageSpeechRoute({
      store: deps.store,
      voice: deps.voice,
      clock: deps.clock,
      heartbeatIntervalMs: settings.heartbeatIntervalMs,
      maxBodyBytes: settings.maxBodyBytes,
    }),
  );

  mountConversationRoutes(router, authenticatedApi, {
    store: deps.store,
    maxBodyBytes: settings.maxBodyBytes,
    contentChecker: deps.contentChecker,
    abandoned,
  });

  mountFeedbackRoute(router, authenticatedApi, {
    store: deps.store,
    contentChecker: deps.contentChecker,
    metrics: deps.metrics,
    maxBodyBytes: settings.maxBodyBytes,
  });

  // Reading a share needs no token; creating, listing and revoking are the owner's.
  mountShareRoutes(router, authenticatedApi, { store: deps.store, rateLimiter: deps.shareRateLimiter });

  app.use(requestId({ logger: deps.logger, ids: deps.ids, clock: deps.clock, trustProxy: doors.trustProxy }));
  app.use(securityHeaders());
  app.use(async (ctx, next) => {
    // Tell keep-alive clients to reconnect elsewhere while we drain.
    if (deps.lifecycle.shuttingDown) ctx.set('Connection', 'close');
    await next();
  });
  app.use(errorHandler());
  if (doors.connections !== undefined) app.use(doors.connections);
  app.use(addressRateLimits({ login: doors.loginRate, public: doors.publicRate, onRefused: refused }));
  app.use(router.routes());
  app.use(router.allowedMethods());

  app.on('error', (error: NodeJS.ErrnoException) => {
    // A client that left mid-request or mid-answer, or sent bytes that are not HTTP, is the
    // client's doing: no stack, no error level (client-faults.ts). Only our own failures are errors.
    const fault = clientFault(error);
    if (fault === 'gone') deps.logger.debug(clientFaultFields(error), 'client connection ended early');
    else if (fault === 'malformed') deps.logger.info(clientFaultFields(error), 'malformed request');
    else deps.logger.error({ err: error }, 'koa error');
  });
  return app;
}

/** Two middleware as one: `first`, then `second` where `first` calls next. */
function inOrder(first: Middleware<AppState>, second: Middleware<AppState>): Middleware<AppState> {
  return (ctx, next) => first(ctx, () => second(ctx, next));
}
