/**
 * `POST /api/chat`: validates the request, opens the upstream stream, then streams the reply.
 *
 * Contract and the one design choice that shapes it: we call the model and wait for ITS response
 * headers before committing our own 200. A provider refusal (401, 429, 5xx, connection refused,
 * no headers within the idle timeout) therefore reaches the client as a plain JSON error with a
 * fitting status, exactly as the protocol asks for failures before the stream starts; the only
 * cost is that our first byte waits for the provider's time to headers, which providers send
 * before the model's first token anyway. From the 200 on, every failure travels in-band as one
 * `error` event written by the relay.
 *
 * The upstream call is aborted (its connection closed) when: the client's connection closes
 * before the reply finished (the response's `close` and the body stream's teardown both trigger
 * it), the idle watchdog fires (`upstream_timeout`), or shutdown interrupts the reply
 * (`server_shutdown`). The body is a PassThrough handed to Koa (`ctx.body`), with the stream
 * headers set first so Koa keeps our Content-Type.
 */
import { PassThrough } from 'node:stream';
import type { Middleware } from 'koa';
import { PROTOCOL_HEADER, PROTOCOL_VERSION, STREAM_HEADERS, WxstreamError } from '@wxstream/protocol';
import type { AppState } from '../app-state.ts';
import type { Clock } from '../clock.ts';
import { readJsonBody } from '../http/json-body.ts';
import type { UpstreamChunk, UpstreamModel } from '../upstream/upstream-model.ts';
import { parseChatRequest } from './chat-request.ts';
import { createIdleWatchdog } from './idle-watchdog.ts';
import { ClientClosed, relayReply, type RelayOutcome } from './relay.ts';
import type { ReplyRegistry } from './reply-registry.ts';
import { createReplyWriter } from './reply-writer.ts';

export interface ChatRouteDeps {
  upstream: UpstreamModel;
  replies: ReplyRegistry;
  clock: Clock;
  ids: () => string;
  limits: { maxBodyBytes: number; maxMessageChars: number };
  heartbeatIntervalMs: number;
  upstreamIdleTimeoutMs: number;
}

export function chatRoute(deps: ChatRouteDeps): Middleware<AppState> {
  return async (ctx) => {
    const log = ctx.state.log;
    const request = parseChatRequest(await readJsonBody(ctx.req, { maxBytes: deps.limits.maxBodyBytes }), deps.limits);
    const startedAt = deps.clock.now();
    const conversationId = request.conversationId ?? deps.ids();
    const messageId = deps.ids();

    const controller = new AbortController();
    const abort = (reason: Error) => {
      if (!controller.signal.aborted) controller.abort(reason);
    };
    const unregister = deps.replies.add({ interrupt: abort });
    const res = ctx.res;
    const onConnectionClosed = () => {
      if (!res.writableFinished) abort(new ClientClosed());
    };
    res.once('close', onConnectionClosed);
    const watchdog = createIdleWatchdog({
      clock: deps.clock,
      timeoutMs: deps.upstreamIdleTimeoutMs,
      onIdle: () => abort(new WxstreamError('upstream_timeout', `The model sent nothing for ${deps.upstreamIdleTimeoutMs} ms`)),
    });
    const release = () => {
      watchdog.stop();
      res.off('close', onConnectionClosed);
      unregister();
    };

    let chunks: AsyncIterable<UpstreamChunk>;
    watchdog.touch();
    try {
      chunks = await deps.upstream.open({ messages: [{ role: 'user', content: request.message }], signal: controller.signal });
      if (controller.signal.aborted) throw controller.signal.reason;
    } catch (error) {
      release();
      const reason: unknown = controller.signal.aborted ? controller.signal.reason : undefined;
      if (reason instanceof ClientClosed) {
        log.info({ outcome: 'client_closed', durationMs: deps.clock.now() - startedAt }, 'client left before the reply started');
        ctx.respond = false;
        return;
      }
      const failure = reason instanceof WxstreamError ? reason : deps.upstream.failure(error, 'before-stream');
      log.warn({ code: failure.code, detail: failure.message }, 'model call failed before the stream');
      throw failure;
    }

    // Commit: from here on the status is 200 and errors travel in-band.
    ctx.req.socket.setNoDelay(true);
    ctx.status = 200;
    ctx.set(STREAM_HEADERS);
    ctx.set(PROTOCOL_HEADER, String(PROTOCOL_VERSION));
    const body = new PassThrough();
    const writer = createReplyWriter({ sink: body, clock: deps.clock, heartbeatIntervalMs: deps.heartbeatIntervalMs });
    const onBodyTornDown = () => {
      if (!writer.ended) abort(new ClientClosed());
    };
    body.once('close', onBodyTornDown);
    ctx.body = body;
    writer.start({ conversationId, messageId, model: deps.upstream.model });

    const relayed = relayReply({
      chunks,
      writer,
      signal: controller.signal,
      watchdog,
      failure: (error) => deps.upstream.failure(error, 'mid-stream'),
    }).catch((error: unknown): RelayOutcome => {
      // relayReply is written never to reject; if it does anyway, the reply still gets its one ending.
      log.error({ err: error }, 'relay failed');
      const failure = new WxstreamError('internal_error', 'The reply failed').toWire();
      writer.end({ type: 'error', data: failure });
      return { kind: 'error', error: failure, usage: undefined };
    });
    void relayed.then((outcome) => {
      release();
      body.off('close', onBodyTornDown);
      log.info(
        {
          outcome: outcome.kind,
          ...(outcome.kind === 'done' ? { finishReason: outcome.finishReason } : {}),
          ...(outcome.kind === 'error' ? { code: outcome.error.code, detail: outcome.error.message } : {}),
          events: writer.eventCount,
          promptTokens: outcome.usage?.promptTokens,
          completionTokens: outcome.usage?.completionTokens,
          durationMs: deps.clock.now() - startedAt,
        },
        'reply finished',
      );
    });
  };
}
