import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import Koa from 'koa';
import { Router } from '@koa/router';
import type { AppState } from '../src/app-state.ts';
import { errorHandler } from '../src/http/error-handler.ts';
import { compileTrustProxy } from '../src/http/client-address.ts';
import { requestId } from '../src/http/request-id.ts';
import { createLogger } from '../src/logger.ts';
import { METRICS_ROUTE, metricsHandler } from '../src/metrics/metrics-handler.ts';
import { ServerMetrics, TIME_TO_FIRST_TOKEN_BUCKETS } from '../src/metrics/server-metrics.ts';
import { parseExposition, valueOf, type Sample } from './support/exposition.ts';
import { createManualClock } from './support/manual-clock.ts';

async function scrape(metrics: ServerMetrics): Promise<Sample[]> {
  return parseExposition(await metrics.registry.metrics());
}

describe('server metrics', () => {
  test('a fresh registry exposes every fixed-label series at zero', async () => {
    const samples = await scrape(new ServerMetrics({ clock: createManualClock() }));
    assert.equal(valueOf(samples, 'wxstream_replies_in_progress'), 0);
    for (const outcome of ['done', 'stopped', 'disconnected']) assert.equal(valueOf(samples, 'wxstream_replies_total', { outcome }), 0);
    for (const kind of ['prompt', 'completion']) assert.equal(valueOf(samples, 'wxstream_tokens_total', { kind }), 0);
    for (const limit of ['rate', 'quota', 'reply_in_progress']) assert.equal(valueOf(samples, 'wxstream_limit_refusals_total', { limit }), 0);
    assert.equal(valueOf(samples, 'wxstream_time_to_first_token_seconds_count'), 0);
    assert.equal(valueOf(samples, 'wxstream_replies_abandoned_total'), 0);
    for (const reason of ['rate_limited', 'unavailable', 'connection']) assert.equal(valueOf(samples, 'wxstream_upstream_retries_total', { reason }), 0);
    assert.equal(valueOf(samples, 'wxstream_upstream_fallbacks_total'), 0);
    for (const rating of ['up', 'down', 'none']) assert.equal(valueOf(samples, 'wxstream_feedback_total', { rating }), 0);
  });

  test('replies in progress go up when replies start and down when they end', async () => {
    const metrics = new ServerMetrics({ clock: createManualClock() });
    const first = metrics.startReply();
    const second = metrics.startReply();
    metrics.startReply();
    first.end('done');
    assert.equal(valueOf(await scrape(metrics), 'wxstream_replies_in_progress'), 2);
    second.end('stopped');
    assert.equal(valueOf(await scrape(metrics), 'wxstream_replies_in_progress'), 1);
  });

  test('outcomes are counted with their error code where one applies, and a reply ends only once', async () => {
    const metrics = new ServerMetrics({ clock: createManualClock() });
    const done = metrics.startReply();
    done.end('done');
    done.end('error', 'upstream_error');
    metrics.startReply().end('done');
    metrics.startReply().end('error', 'upstream_timeout');
    metrics.startReply().end('error', 'upstream_timeout');
    metrics.startReply().end('error', 'server_shutdown');
    metrics.startReply().end('blocked', 'content_blocked');
    metrics.startReply().end('disconnected');
    const samples = await scrape(metrics);
    assert.equal(valueOf(samples, 'wxstream_replies_total', { outcome: 'done' }), 2);
    assert.equal(valueOf(samples, 'wxstream_replies_total', { outcome: 'error', code: 'upstream_timeout' }), 2);
    assert.equal(valueOf(samples, 'wxstream_replies_total', { outcome: 'error', code: 'server_shutdown' }), 1);
    assert.equal(valueOf(samples, 'wxstream_replies_total', { outcome: 'blocked', code: 'content_blocked' }), 1);
    assert.equal(valueOf(samples, 'wxstream_replies_total', { outcome: 'disconnected' }), 1);
    assert.equal(valueOf(samples, 'wxstream_replies_total', { outcome: 'stopped' }), 0);
    assert.equal(valueOf(samples, 'wxstream_replies_in_progress'), 0);
    assert.ok(!samples.some((sample) => sample.labels.code === 'upstream_error'), 'the second end() of a reply was ignored');
  });

  test('a code outside the protocol set is counted as internal_error, so labels stay bounded', async () => {
    const metrics = new ServerMetrics({ clock: createManualClock() });
    const unknown = 'provider said: quota 12345 exceeded' as Parameters<ServerMetrics['upstreamError']>[0];
    metrics.upstreamError(unknown);
    metrics.startReply().end('error', unknown);
    const samples = await scrape(metrics);
    assert.equal(valueOf(samples, 'wxstream_upstream_errors_total', { code: 'internal_error' }), 1);
    assert.equal(valueOf(samples, 'wxstream_replies_total', { outcome: 'error', code: 'internal_error' }), 1);
  });

  test('time to first token is measured on the injected clock, once per reply, in seconds', async () => {
    const clock = createManualClock(1_000_000);
    const metrics = new ServerMetrics({ clock });
    const fast = metrics.startReply();
    clock.advance(80);
    fast.firstToken();
    clock.advance(5000);
    fast.firstToken();
    const slow = metrics.startReply();
    clock.advance(2500);
    slow.firstToken();
    const samples = await scrape(metrics);
    const name = 'wxstream_time_to_first_token_seconds';
    assert.equal(valueOf(samples, `${name}_count`), 2);
    assert.equal(valueOf(samples, `${name}_sum`), 0.08 + 2.5);
    assert.equal(valueOf(samples, `${name}_bucket`, { le: '0.05' }), 0);
    assert.equal(valueOf(samples, `${name}_bucket`, { le: '0.1' }), 1);
    assert.equal(valueOf(samples, `${name}_bucket`, { le: '2' }), 1);
    assert.equal(valueOf(samples, `${name}_bucket`, { le: '3' }), 2);
    assert.equal(valueOf(samples, `${name}_bucket`, { le: '+Inf' }), 2);
    const bounds = samples.filter((sample) => sample.name === `${name}_bucket`).map((sample) => sample.labels.le);
    assert.deepEqual(bounds, [...TIME_TO_FIRST_TOKEN_BUCKETS.map(String), '+Inf']);
  });

  test('a reply that ends before its first token records no time to first token', async () => {
    const metrics = new ServerMetrics({ clock: createManualClock() });
    const reply = metrics.startReply();
    reply.end('error', 'upstream_unavailable');
    reply.firstToken();
    assert.equal(valueOf(await scrape(metrics), 'wxstream_time_to_first_token_seconds_count'), 0);
  });

  test('upstream errors, tokens and refusals are counted by their label', async () => {
    const metrics = new ServerMetrics({ clock: createManualClock() });
    metrics.upstreamError('upstream_rate_limited');
    metrics.upstreamError('upstream_rate_limited');
    metrics.upstreamError('upstream_auth_failed');
    metrics.tokensUsed({ promptTokens: 120, completionTokens: 30 });
    metrics.tokensUsed({ promptTokens: 80, completionTokens: 0 });
    metrics.tokensUsed({ promptTokens: -5, completionTokens: 10 });
    metrics.limitRefused('rate');
    metrics.limitRefused('reply_in_progress');
    metrics.limitRefused('reply_in_progress');
    const samples = await scrape(metrics);
    assert.equal(valueOf(samples, 'wxstream_upstream_errors_total', { code: 'upstream_rate_limited' }), 2);
    assert.equal(valueOf(samples, 'wxstream_upstream_errors_total', { code: 'upstream_auth_failed' }), 1);
    assert.equal(valueOf(samples, 'wxstream_tokens_total', { kind: 'prompt' }), 200);
    assert.equal(valueOf(samples, 'wxstream_tokens_total', { kind: 'completion' }), 40);
    assert.equal(valueOf(samples, 'wxstream_limit_refusals_total', { limit: 'rate' }), 1);
    assert.equal(valueOf(samples, 'wxstream_limit_refusals_total', { limit: 'quota' }), 0);
    assert.equal(valueOf(samples, 'wxstream_limit_refusals_total', { limit: 'reply_in_progress' }), 2);
  });

  test('two instances in one process keep separate counts', async () => {
    const a = new ServerMetrics({ clock: createManualClock() });
    const b = new ServerMetrics({ clock: createManualClock() });
    a.limitRefused('quota');
    assert.equal(valueOf(await scrape(a), 'wxstream_limit_refusals_total', { limit: 'quota' }), 1);
    assert.equal(valueOf(await scrape(b), 'wxstream_limit_refusals_total', { limit: 'quota' }), 0);
  });

  test('process metrics are included only when asked for', async () => {
    const without = await scrape(new ServerMetrics({ clock: createManualClock() }));
    assert.ok(!without.some((sample) => sample.name.startsWith('process_') || sample.name.startsWith('nodejs_')));
    const withProcess = await scrape(new ServerMetrics({ clock: createManualClock(), collectProcessMetrics: true }));
    assert.ok(valueOf(withProcess, 'process_resident_memory_bytes') > 0);
    assert.ok(withProcess.some((sample) => sample.name === 'nodejs_eventloop_lag_seconds'));
    assert.equal(valueOf(withProcess, 'wxstream_replies_in_progress'), 0);
  });
});

describe('GET /metrics', () => {
  const TOKEN = 'scrape-token-0123456789';
  let server: Server;
  let baseUrl: string;
  const metrics = new ServerMetrics({ clock: createManualClock() });

  before(async () => {
    const app = new Koa<AppState>();
    const router = new Router<AppState>();
    router.get(METRICS_ROUTE, metricsHandler<AppState>(metrics, { token: TOKEN }));
    let id = 0;
    app.use(requestId({ logger: createLogger({ level: 'silent' }), ids: () => `req-${++id}`, clock: createManualClock(), trustProxy: compileTrustProxy(undefined) }));
    app.use(errorHandler());
    app.use(router.routes());
    app.use(router.allowedMethods());
    server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(() => {
    server.close();
  });

  test('answers the exposition with the registry content type and no caching, given the bearer token', async () => {
    metrics.startReply().end('done');
    metrics.tokensUsed({ promptTokens: 7, completionTokens: 3 });
    const response = await fetch(`${baseUrl}/metrics`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), metrics.registry.contentType);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    assert.equal(response.headers.get('cache-control'), 'no-store');
    const text = await response.text();
    assert.match(text, /^# HELP wxstream_replies_in_progress /m);
    assert.match(text, /^# TYPE wxstream_time_to_first_token_seconds histogram$/m);
    const samples = parseExposition(text);
    assert.equal(valueOf(samples, 'wxstream_replies_total', { outcome: 'done' }), 1);
    assert.equal(valueOf(samples, 'wxstream_tokens_total', { kind: 'prompt' }), 7);
    assert.equal(valueOf(samples, 'wxstream_tokens_total', { kind: 'completion' }), 3);
  });

  test('without the token, or with a wrong one, answers 401 unauthorized with a Bearer challenge', async () => {
    for (const authorization of [undefined, 'Bearer wrong-token-0123456789', `Basic ${TOKEN}`, `Bearer ${TOKEN}x`]) {
      const response = await fetch(`${baseUrl}/metrics`, authorization === undefined ? {} : { headers: { Authorization: authorization } });
      assert.equal(response.status, 401, `Authorization: ${authorization}`);
      assert.match(response.headers.get('www-authenticate') ?? '', /^Bearer /);
      const body = (await response.json()) as { error: { code: string } };
      assert.equal(body.error.code, 'unauthorized');
    }
  });

  test('other methods are answered 405 method_not_allowed', async () => {
    const response = await fetch(`${baseUrl}/metrics`, { method: 'POST', headers: { Authorization: `Bearer ${TOKEN}` } });
    assert.equal(response.status, 405);
    assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'method_not_allowed');
  });
});

describe('GET /metrics without a token', () => {
  test('is open to any scraper', async () => {
    const metrics = new ServerMetrics({ clock: createManualClock() });
    metrics.limitRefused('quota');
    const app = new Koa();
    app.use(metricsHandler(metrics));
    const server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`);
      assert.equal(response.status, 200);
      assert.equal(valueOf(parseExposition(await response.text()), 'wxstream_limit_refusals_total', { limit: 'quota' }), 1);
    } finally {
      server.close();
    }
  });
});
