/**
 * One HTTP exchange with WeChat's server API, as a JSON object or a `WechatApiError`.
 *
 * Contract: `call` sends one request with the global `fetch` and resolves with the answer's JSON
 * object when it has no errcode or errcode 0. Everything else rejects with a `WechatApiError`
 * (see wechat-errors.ts): an errcode, an HTTP error status, no connection, a body that is not a
 * JSON object or is larger than `maxResponseBytes`, or no complete answer within `timeoutMs` on
 * the injected clock (headers and body alike — a server that sends headers and then stalls is
 * still a timeout). When the caller's own `signal` aborts, the call rejects with that signal's
 * reason instead, unlogged: stopping is not a WeChat failure.
 *
 * Logging: one record per failed call with the error's log fields and the duration — never a
 * URL, a query, a body or an answer, which carry the app secret, access tokens, session keys and
 * the text being checked. Only our deployment can fix a misconfiguration errcode, so those are
 * logged at error level; refused access tokens, which the token cache repairs, at info.
 */
import type { Clock } from '../clock.ts';
import { readBoundedBody } from '../http/read-bounded-body.ts';
import type { Logger } from '../logger.ts';
import {
  ACCESS_TOKEN_REJECTIONS,
  MISCONFIGURATION_ERRCODES,
  WechatApiError,
  mappingForErrcode,
  redactWechatText,
  type WechatApi,
} from './wechat-errors.ts';

export const DEFAULT_WECHAT_API_BASE_URL = 'https://api.weixin.qq.com';
export const DEFAULT_WECHAT_TIMEOUT_MS = 5000;
/** WeChat's answers here are a few hundred bytes; anything near this is not WeChat. */
export const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024;

export interface WechatHttpOptions {
  /** Scheme, host and optional path prefix, e.g. `https://api.weixin.qq.com`. */
  readonly baseUrl: string;
  readonly timeoutMs: number;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly maxResponseBytes?: number;
}

export interface WechatCall {
  readonly api: WechatApi;
  readonly method: 'GET' | 'POST';
  /** Path below the base URL, starting with `/`. */
  readonly path: string;
  readonly query?: Readonly<Record<string, string>>;
  /** Sent as JSON (POST only). */
  readonly body?: unknown;
  /** Values that must never appear in an error message: the app secret, tokens, codes, checked text. */
  readonly secrets: readonly string[];
  readonly signal?: AbortSignal;
}

export type WechatJson = Readonly<Record<string, unknown>>;

export interface WechatHttp {
  call(request: WechatCall): Promise<WechatJson>;
}

function isJsonObject(value: unknown): value is WechatJson {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describeTransportError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause as { code?: unknown; message?: unknown } | undefined;
  const causeText = typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : undefined;
  return causeText === undefined ? error.message : `${error.message} (${causeText})`;
}

export function createWechatHttp(options: WechatHttpOptions): WechatHttp {
  const base = options.baseUrl.replace(/\/+$/, '');
  const maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;

  async function exchange(request: WechatCall): Promise<WechatJson> {
    const { api, secrets } = request;
    const query = request.query === undefined ? '' : `?${new URLSearchParams(request.query).toString()}`;
    const url = `${base}${request.path}${query}`;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (request.body !== undefined) headers['content-type'] = 'application/json';

    const timeout = new AbortController();
    let timedOut = false;
    const timer = options.clock.setTimeout(() => {
      timedOut = true;
      timeout.abort();
    }, options.timeoutMs);
    const signal = request.signal === undefined ? timeout.signal : AbortSignal.any([timeout.signal, request.signal]);

    const transportError = (error: unknown): unknown => {
      if (request.signal?.aborted === true) return request.signal.reason;
      if (error instanceof WechatApiError) return error;
      if (timedOut) {
        return new WechatApiError('wechat_unavailable', {
          api,
          failure: 'timeout',
          detail: `no complete answer within ${options.timeoutMs} ms`,
          cause: error,
        });
      }
      return new WechatApiError('wechat_unavailable', {
        api,
        failure: 'network',
        detail: `request failed: ${redactWechatText(describeTransportError(error), secrets)}`,
        cause: error,
      });
    };

    try {
      let response: Response;
      let text: string;
      try {
        response = await fetch(url, {
          method: request.method,
          headers,
          ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
          signal,
          // WeChat does not redirect; following one could carry the secret in the query elsewhere.
          redirect: 'error',
        });
        const status = response.status;
        text = (await readBoundedBody(
          response,
          maxResponseBytes,
          () =>
            new WechatApiError('wechat_unavailable', {
              api,
              failure: 'bad_response',
              httpStatus: status,
              detail: `answer larger than ${maxResponseBytes} bytes`,
            }),
        )).toString('utf8');
      } catch (error) {
        throw transportError(error);
      }

      if (!response.ok) {
        throw new WechatApiError('wechat_unavailable', {
          api,
          failure: 'http_status',
          httpStatus: response.status,
          detail: `HTTP ${response.status}`,
          // A 4xx from the gateway means a wrong base URL or path: repeating will not help.
          retryable: response.status >= 500,
        });
      }
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      if (!isJsonObject(json)) {
        throw new WechatApiError('wechat_unavailable', {
          api,
          failure: 'bad_response',
          httpStatus: response.status,
          detail: 'answer is not a JSON object',
        });
      }
      const errcode = json.errcode;
      if (errcode === undefined || errcode === 0) return json;
      if (typeof errcode !== 'number' || !Number.isInteger(errcode)) {
        throw new WechatApiError('wechat_unavailable', { api, failure: 'bad_response', detail: 'errcode is not an integer' });
      }
      const mapping = mappingForErrcode(api, errcode);
      const errmsg = typeof json.errmsg === 'string' ? redactWechatText(json.errmsg, secrets) : '';
      throw new WechatApiError(mapping.code, {
        api,
        failure: 'errcode',
        errcode,
        detail: errmsg === '' ? `errcode ${errcode}` : `errcode ${errcode} (${errmsg})`,
        retryable: mapping.retryable,
      });
    } finally {
      options.clock.clearTimeout(timer);
    }
  }

  return {
    async call(request) {
      const started = options.clock.now();
      try {
        const json = await exchange(request);
        options.logger.debug({ api: request.api, durationMs: options.clock.now() - started }, 'WeChat call succeeded');
        return json;
      } catch (error) {
        if (error instanceof WechatApiError) {
          const fields = { ...error.logFields(), durationMs: options.clock.now() - started };
          if (error.errcode !== undefined && MISCONFIGURATION_ERRCODES.has(error.errcode)) {
            options.logger.error(fields, 'WeChat refused our credentials or server: check WECHAT_APPID, WECHAT_SECRET and the IP whitelist');
          } else if (error.errcode !== undefined && ACCESS_TOKEN_REJECTIONS.has(error.errcode)) {
            options.logger.info(fields, 'WeChat refused the access token');
          } else {
            options.logger.warn(fields, 'WeChat call failed');
          }
        }
        throw error;
      }
    },
  };
}
