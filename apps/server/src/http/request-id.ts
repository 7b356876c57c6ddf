/**
 * Gives every request one id, used in every log record about it and echoed to the client.
 *
 * Contract: an `X-Request-Id` is kept only when it comes from a trusted proxy (`TRUST_PROXY`: the
 * connection's peer is one) and is sane (1–128 characters from a conservative set, so it cannot
 * inject log fields or headers); any other client could otherwise forge the id under which its
 * requests are logged, or borrow someone else's. Otherwise a fresh id is generated. The client's
 * address (X-Forwarded-For only through trusted proxies, `client-address.ts`) is put on
 * `ctx.state.clientAddress` for the limits that key on it.
 * The id is set on the response header before any handler runs, so even error answers carry it.
 * One access-log record is written when the response closes, with status, duration and whether the
 * client left before the response finished.
 */
import type { Middleware } from 'koa';
import type { AppState } from '../app-state.ts';
import type { Clock } from '../clock.ts';
import type { Logger } from '../logger.ts';
import { clientAddress, viaTrustedProxy, type ProxyTrust } from './client-address.ts';

export const REQUEST_ID_HEADER = 'X-Request-Id';
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function chooseRequestId(supplied: string | undefined, generate: () => string): string {
  return supplied !== undefined && SANE_REQUEST_ID.test(supplied) ? supplied : generate();
}

export function requestId(deps: { logger: Logger; ids: () => string; clock: Clock; trustProxy: ProxyTrust }): Middleware<AppState> {
  return async (ctx, next) => {
    const startedAt = deps.clock.now();
    const fromProxy = viaTrustedProxy(ctx.req, deps.trustProxy);
    const id = chooseRequestId(fromProxy ? ctx.get(REQUEST_ID_HEADER) || undefined : undefined, deps.ids);
    ctx.state.clientAddress = clientAddress(ctx.req, deps.trustProxy);
    ctx.state.requestId = id;
    ctx.state.log = deps.logger.child({ requestId: id });
    ctx.set(REQUEST_ID_HEADER, id);
    const res = ctx.res;
    res.once('close', () => {
      ctx.state.log.info(
        {
          method: ctx.method,
          path: ctx.path,
          status: res.statusCode,
          durationMs: deps.clock.now() - startedAt,
          clientClosedEarly: !res.writableFinished,
        },
        'request finished',
      );
    });
    await next();
  };
}
