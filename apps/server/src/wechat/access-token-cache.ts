/**
 * The app's WeChat access token (`getStableAccessToken`), cached, shared and repaired.
 *
 * Contract:
 * - `get()` answers from the cache until five minutes before the token's expiry (half its
 *   lifetime if that is shorter), then fetches in normal mode. WeChat's normal mode hands out a
 *   new token in exactly that window and keeps the old one valid meanwhile, so refreshing there
 *   never leaves a gap. Concurrent callers share one fetch (single flight); a failed fetch is not
 *   cached. When a refresh fails while the current token is still valid, the current token is
 *   used (logged) — WeChat being slow must not break checks the old token can still do.
 * - `withAccessToken(call)` runs `call(token)`; when WeChat refuses that token (40001, 40014,
 *   42001) it gets a replacement and runs `call` once more. Any second failure propagates.
 * - A replacement is fetched in normal mode first: a token refused because it expired, or because
 *   another process forced a refresh, is replaced that way. Only when normal mode hands back the
 *   very token WeChat just refused is `force_refresh: true` used — WeChat allows that 20 times a
 *   day, at least 30 s apart (faster repeats are ignored), and it invalidates the token for every
 *   other process sharing the appid. Past those limits the refusal propagates instead.
 * Time comes from the injected clock; nothing here schedules timers.
 */
import type { Clock } from '../clock.ts';
import type { Logger } from '../logger.ts';
import type { WechatCredentials } from './wechat-config.ts';
import { WechatApiError, isAccessTokenRejection } from './wechat-errors.ts';
import type { WechatHttp } from './wechat-http.ts';

export const REFRESH_MARGIN_MS = 5 * 60_000;
export const FORCE_REFRESH_MIN_INTERVAL_MS = 30_000;
export const FORCE_REFRESH_DAILY_LIMIT = 20;
const DAY_MS = 24 * 60 * 60_000;

export interface AccessTokenSource {
  /** A token to use now. */
  get(): Promise<string>;
  /** Runs `call` with a token; if WeChat refuses that token, replaces it and runs `call` once more. */
  withAccessToken<T>(call: (accessToken: string) => Promise<T>): Promise<T>;
}

interface CachedToken {
  readonly token: string;
  /** From here on, `get()` fetches (normal mode hands out the successor in this window). */
  readonly refreshAt: number;
  /** Past here WeChat refuses the token; it is never used after this. */
  readonly expiresAt: number;
}

export interface AccessTokenCacheDeps {
  readonly http: WechatHttp;
  readonly credentials: WechatCredentials;
  readonly clock: Clock;
  readonly logger: Logger;
}

export function createAccessTokenCache(deps: AccessTokenCacheDeps): AccessTokenSource {
  const { http, credentials, clock, logger } = deps;
  let cached: CachedToken | undefined;
  /** The one fetch under way, shared by every caller that needs a token meanwhile. */
  let inflight: Promise<string> | undefined;
  /** Start times of forced refreshes within the last day, oldest first. */
  const forcedAt: number[] = [];

  async function fetchToken(forceRefresh: boolean): Promise<string> {
    const requestedAt = clock.now();
    try {
      const answer = await http.call({
        api: 'stable_token',
        method: 'POST',
        path: '/cgi-bin/stable_token',
        body: { grant_type: 'client_credential', appid: credentials.appid, secret: credentials.secret, force_refresh: forceRefresh },
        secrets: [credentials.secret, ...(cached === undefined ? [] : [cached.token])],
      });
      const { access_token: token, expires_in: expiresIn } = answer;
      if (typeof token !== 'string' || token === '' || typeof expiresIn !== 'number' || !(expiresIn > 0)) {
        throw new WechatApiError('wechat_unavailable', {
          api: 'stable_token',
          failure: 'bad_response',
          detail: 'answer has no access_token or no positive expires_in',
        });
      }
      // Lifetimes count from the request, not the answer: never later than WeChat's own clock.
      const lifetimeMs = expiresIn * 1000;
      cached = {
        token,
        refreshAt: requestedAt + lifetimeMs - Math.min(REFRESH_MARGIN_MS, lifetimeMs / 2),
        expiresAt: requestedAt + lifetimeMs,
      };
      logger.debug({ expiresIn, forceRefresh }, 'fetched a WeChat access token');
      return token;
    } catch (error) {
      if (!forceRefresh && cached !== undefined && clock.now() < cached.expiresAt) {
        const fields = error instanceof WechatApiError ? error.logFields() : {};
        logger.warn(fields, 'could not refresh the WeChat access token; using the current one until it expires');
        return cached.token;
      }
      throw error;
    }
  }

  function shared(forceRefresh: boolean): Promise<string> {
    inflight ??= fetchToken(forceRefresh).finally(() => {
      inflight = undefined;
    });
    return inflight;
  }

  function mayForceRefresh(now: number): boolean {
    while (forcedAt.length > 0 && (forcedAt[0] ?? now) <= now - DAY_MS) forcedAt.shift();
    const last = forcedAt.at(-1);
    return forcedAt.length < FORCE_REFRESH_DAILY_LIMIT && (last === undefined || now - last >= FORCE_REFRESH_MIN_INTERVAL_MS);
  }

  function usable(now: number): CachedToken | undefined {
    return cached !== undefined && now < cached.refreshAt ? cached : undefined;
  }

  async function replace(refused: string, refusal: WechatApiError): Promise<string> {
    if (cached?.token === refused) cached = undefined;
    const current = usable(clock.now());
    if (current !== undefined) return current.token; // another caller already replaced it
    const token = await shared(false);
    if (token !== refused) return token;
    // Normal mode handed back the token WeChat just refused: only a forced refresh replaces it.
    if (inflight !== undefined) return inflight;
    const now = clock.now();
    if (!mayForceRefresh(now)) {
      logger.warn({ errcode: refusal.errcode }, 'WeChat refuses the access token it hands out; a forced refresh is not allowed yet');
      throw refusal;
    }
    forcedAt.push(now);
    logger.warn({ errcode: refusal.errcode }, 'WeChat refuses the access token it hands out; forcing a refresh');
    return shared(true);
  }

  async function get(): Promise<string> {
    return usable(clock.now())?.token ?? shared(false);
  }

  return {
    get,
    async withAccessToken(call) {
      const token = await get();
      try {
        return await call(token);
      } catch (error) {
        if (!isAccessTokenRejection(error)) throw error;
        return call(await replace(token, error));
      }
    },
  };
}
