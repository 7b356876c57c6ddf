/**
 * Builds the Koa application from its dependencies; never listens.
 *
 * Contract: everything with I/O or state (upstream, tokens, clock, ids, the in-flight replies,
 * the lifecycle flag) is passed in, so tests and `start-server` assemble the same app. Routes:
 * `GET /healthz`, `POST /api/auth/login` (development login), `POST /api/chat`. Every non-2xx
 * answer is the protocol's JSON error body; no middleware here compresses anything.
 */
import Koa from 'koa';
import { Router } from '@koa/router';
import { ROUTES, WxstreamError } from '@wxstream/protocol';
import type { AppState } from './app-state.ts';
import { devLogin } from './auth/dev-login.ts';
import { requireAuth } from './auth/require-auth.ts';
import type { TokenService } from './auth/token.ts';
import { chatRoute } from './chat/chat-route.ts';
import type { ReplyRegistry } from './chat/reply-registry.ts';
import type { Clock } from './clock.ts';
import type { Config } from './config.ts';
import { errorHandler } from './http/error-handler.ts';
import { requestId } from './http/request-id.ts';
import type { Logger } from './logger.ts';
import type { UpstreamModel } from './upstream/upstream-model.ts';

export interface Lifecycle {
  readonly shuttingDown: boolean;
}

export interface AppDeps {
  logger: Logger;
  clock: Clock;
  ids: () => string;
  tokens: TokenService;
  upstream: UpstreamModel;
  replies: ReplyRegistry;
  lifecycle: Lifecycle;
  settings: Pick<Config, 'devLogin' | 'maxBodyBytes' | 'maxMessageChars' | 'heartbeatIntervalMs' | 'upstreamIdleTimeoutMs'>;
}

export function createApp(deps: AppDeps): Koa<AppState> {
  const app = new Koa<AppState>();
  const router = new Router<AppState>();
  const { settings } = deps;

  router.get(ROUTES.health, (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    if (deps.lifecycle.shuttingDown) {
      ctx.status = 503;
      ctx.body = { status: 'shutting_down' };
    } else {
      ctx.body = { status: 'ok' };
    }
  });

  router.post(
    ROUTES.login,
    settings.devLogin
      ? devLogin({ tokens: deps.tokens, maxBodyBytes: settings.maxBodyBytes })
      : () => {
          throw new WxstreamError('login_failed', 'Development login is disabled (DEV_LOGIN=false)');
        },
  );

  router.post(
    ROUTES.chat,
    async (_ctx, next) => {
      if (deps.lifecycle.shuttingDown) throw new WxstreamError('server_shutdown', 'The server is shutting down');
      await next();
    },
    requireAuth(deps.tokens),
    chatRoute({
      upstream: deps.upstream,
      replies: deps.replies,
      clock: deps.clock,
      ids: deps.ids,
      limits: { maxBodyBytes: settings.maxBodyBytes, maxMessageChars: settings.maxMessageChars },
      heartbeatIntervalMs: settings.heartbeatIntervalMs,
      upstreamIdleTimeoutMs: settings.upstreamIdleTimeoutMs,
    }),
  );

  app.use(requestId({ logger: deps.logger, ids: deps.ids, clock: deps.clock }));
  app.use(async (ctx, next) => {
    // Tell keep-alive clients to reconnect elsewhere while we drain.
    if (deps.lifecycle.shuttingDown) ctx.set('Connection', 'close');
    await next();
  });
  app.use(errorHandler());
  app.use(router.routes());
  app.use(router.allowedMethods());

  app.on('error', (error: NodeJS.ErrnoException) => {
    // Koa reports a stream body cut short by the client here; that is a normal way for a reply to end.
    if (error.code === 'ERR_STREAM_PREMATURE_CLOSE' || error.code === 'ECONNRESET') {
      deps.logger.debug({ code: error.code }, 'response stream closed early');
      return;
    }
    deps.logger.error({ err: error }, 'koa error');
  });
  return app;
}
