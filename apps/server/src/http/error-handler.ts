/**
 * Turns every failure before the first response byte into the protocol's JSON error body.
 *
 * Contract: a thrown `WxstreamError` becomes `{"error":{code,message,retryable}}` with its status;
 * anything else is an `internal_error` whose details go to the log, not the client. Unmatched
 * routes become `not_found`, a known route with the wrong method becomes `method_not_allowed`
 * (keeping the router's `Allow` header). A refusal that knows how long to wait (a
 * `LimitExceededError` with `retryAfterSeconds`) also gets a `Retry-After` header. A body left
 * unread by the refusal is drained, within bounds (`refused-body.ts`). Once a stream
 * has started, errors travel in-band as an `error` event (the chat relay's job) and this
 * middleware only logs.
 */
import type { Middleware } from 'koa';
import { WxstreamError, errorBody } from '@wxstream/protocol';
import type { AppState } from '../app-state.ts';
import { LimitExceededError } from '../limits/limit-exceeded-error.ts';
import { drainRefusedBody } from './refused-body.ts';

function asWxstreamError(error: unknown): WxstreamError {
  if (error instanceof WxstreamError) return error;
  return new WxstreamError('internal_error', 'Internal server error', { cause: error });
}

export function errorHandler(): Middleware<AppState> {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.body === undefined && ctx.status === 404) {
        throw new WxstreamError('not_found', `No route for ${ctx.method} ${ctx.path}`);
      }
      if (ctx.body === undefined && (ctx.status === 405 || ctx.status === 501)) {
        throw new WxstreamError('method_not_allowed', `${ctx.method} is not allowed on ${ctx.path}`);
      }
    } catch (thrown) {
      const error = asWxstreamError(thrown);
      if (error.code === 'internal_error') ctx.state.log.error({ err: thrown }, 'unhandled error');
      if (ctx.headerSent || !ctx.writable) {
        // A client that hung up cannot be answered, and that is its doing: debug, not a warning.
        if (!ctx.headerSent && (ctx.req.destroyed || ctx.req.socket.destroyed)) ctx.state.log.debug({ code: error.code }, 'client left before the answer');
        else ctx.state.log.warn({ code: error.code }, 'error after the response started; not answerable');
        return;
      }
      ctx.status = error.status;
      ctx.body = errorBody(error.code, error.message);
      if (error instanceof LimitExceededError && error.retryAfterSeconds !== undefined) {
        ctx.set('Retry-After', String(error.retryAfterSeconds));
      }
      // The client may still be sending a body we refused to read (too large, or refused before
      // reading, like a missing token): read and drop a bounded amount, so our answer reaches a
      // client that writes its whole body before reading (refused-body.ts).
      drainRefusedBody(ctx.req, ctx.res);
      ctx.state.log.info({ code: error.code, status: error.status }, 'request rejected');
    }
  };
}
