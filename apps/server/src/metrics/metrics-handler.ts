/**
 * The Koa handler for `GET /metrics`: the registry's text exposition.
 *
 * Contract: answers 200 with `registry.metrics()` and the registry's own content type
 * (`text/plain; version=0.0.4`), never cached. With a `token`, a request without
 * `Authorization: Bearer <token>` gets 401 `unauthorized` (the protocol's error body, via the
 * error handler) and a `WWW-Authenticate: Bearer` challenge; the comparison takes the same time
 * wherever the tokens differ. Mount it with the router (`router.get('/metrics', handler)`), which
 * already answers other methods with 405.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Middleware } from 'koa';
import { WxstreamError } from '@wxstream/protocol';
import type { ServerMetrics } from './server-metrics.ts';

export const METRICS_ROUTE = '/metrics';

export interface MetricsHandlerOptions {
  /** Bearer token scrapers must send; undefined leaves the endpoint open. */
  token?: string | undefined;
}

/** Hashing first gives equal-length inputs, so timingSafeEqual never leaks the token's length. */
function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

export function metricsHandler<State>(metrics: ServerMetrics, options: MetricsHandlerOptions = {}): Middleware<State> {
  const expected = options.token === undefined ? undefined : digest(options.token);
  return async (ctx) => {
    if (expected !== undefined) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(ctx.get('Authorization'));
      if (match?.[1] === undefined || !timingSafeEqual(digest(match[1]), expected)) {
        ctx.set('WWW-Authenticate', 'Bearer realm="metrics"');
        throw new WxstreamError('unauthorized', 'GET /metrics needs Authorization: Bearer <METRICS_TOKEN>');
      }
    }
    const body = await metrics.registry.metrics();
    ctx.set('Cache-Control', 'no-store');
    ctx.type = metrics.registry.contentType;
    ctx.body = body;
  };
}
