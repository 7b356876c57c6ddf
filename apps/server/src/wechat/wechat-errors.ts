/**
 * WeChat's failures as protocol errors.
 *
 * Contract: every failed WeChat call becomes one `WechatApiError` — a `WxstreamError` whose `code`
 * is what the client sees, plus the facts an operator needs (`api`, `failure`, `errcode`,
 * `httpStatus`) in fields that are safe to log. The message is for developers and may reach the
 * client in an error body, so it is built only from those facts and WeChat's `errmsg` with every
 * known secret value cut out; it never holds a URL (the login URL carries the app secret).
 *
 * Mapping (errcodes from WeChat's code2Session, getStableAccessToken and msgSecCheck pages):
 * - transport: HTTP 5xx, no connection, timeout, unparsable body, errcode -1 (system busy) →
 *   `wechat_unavailable` (retryable);
 * - 45011 (minute quota) → `rate_limited`; 45009 (daily quota) → `wechat_unavailable`, not
 *   retryable (it clears tomorrow, not in a minute);
 * - jscode2session: 40029 (invalid code), 40163 (code already used), 41008 (code missing) →
 *   `login_code_invalid`; 40226 (WeChat's risk control blocks this user's login) and anything
 *   else, notably our own misconfiguration (wrong appid/secret, server IP not whitelisted) →
 *   `login_failed`, not retryable;
 * - stable_token and msg_sec_check: anything else → `wechat_unavailable`, not retryable — the
 *   request or the configuration is wrong, and repeating it will not help. Access-token
 *   rejections (40001, 40014, 42001) are normally absorbed by the token cache's one refresh and
 *   retry; they surface here only when that did not help.
 */
import { WxstreamError, type ErrorCode } from '@wxstream/protocol';

export type WechatApi = 'jscode2session' | 'stable_token' | 'msg_sec_check';

/** How a call failed: an errcode from WeChat, or the transport before one could be read. */
export type WechatFailure = 'errcode' | 'http_status' | 'network' | 'timeout' | 'bad_response';

export const WECHAT_ERRCODE = {
  systemBusy: -1,
  invalidCredential: 40001,
  invalidGrantType: 40002,
  invalidOpenid: 40003,
  invalidAppid: 40013,
  invalidAccessToken: 40014,
  invalidCode: 40029,
  invalidAppSecret: 40125,
  sceneInvalid: 40129,
  codeUsed: 40163,
  ipNotWhitelisted: 40164,
  codeBlocked: 40226,
  accessTokenMissing: 41001,
  appidMissing: 41002,
  appSecretMissing: 41004,
  codeMissing: 41008,
  accessTokenExpired: 42001,
  appidOpenidMismatch: 43104,
  emptyParameter: 44002,
  dailyQuotaReached: 45009,
  minuteQuotaReached: 45011,
  badParameterFormat: 47001,
  userAccessExpired: 61010,
} as const;

/** Errcodes saying the access token itself was refused: refresh it and retry once. */
export const ACCESS_TOKEN_REJECTIONS: ReadonlySet<number> = new Set([
  WECHAT_ERRCODE.invalidCredential,
  WECHAT_ERRCODE.invalidAccessToken,
  WECHAT_ERRCODE.accessTokenExpired,
]);

/** Errcodes only our deployment can fix (credentials, IP whitelist): logged at error level. */
export const MISCONFIGURATION_ERRCODES: ReadonlySet<number> = new Set([
  WECHAT_ERRCODE.invalidGrantType,
  WECHAT_ERRCODE.invalidAppid,
  WECHAT_ERRCODE.invalidAppSecret,
  WECHAT_ERRCODE.ipNotWhitelisted,
  WECHAT_ERRCODE.appidMissing,
  WECHAT_ERRCODE.appSecretMissing,
]);

const LOGIN_CODE_REJECTIONS: ReadonlySet<number> = new Set([
  WECHAT_ERRCODE.invalidCode,
  WECHAT_ERRCODE.codeUsed,
  WECHAT_ERRCODE.codeMissing,
]);

export interface WechatErrorMapping {
  readonly code: ErrorCode;
  readonly retryable: boolean;
}

export function mappingForErrcode(api: WechatApi, errcode: number): WechatErrorMapping {
  if (errcode === WECHAT_ERRCODE.systemBusy) return { code: 'wechat_unavailable', retryable: true };
  if (errcode === WECHAT_ERRCODE.minuteQuotaReached) return { code: 'rate_limited', retryable: true };
  if (errcode === WECHAT_ERRCODE.dailyQuotaReached) return { code: 'wechat_unavailable', retryable: false };
  if (api === 'jscode2session') {
    if (LOGIN_CODE_REJECTIONS.has(errcode)) return { code: 'login_code_invalid', retryable: false };
    return { code: 'login_failed', retryable: false };
  }
  return { code: 'wechat_unavailable', retryable: false };
}

export interface WechatApiErrorInit {
  readonly api: WechatApi;
  readonly failure: WechatFailure;
  readonly errcode?: number;
  readonly httpStatus?: number;
  /** Already redacted: see `redactWechatText`. */
  readonly detail: string;
  readonly retryable?: boolean;
  readonly cause?: unknown;
}

/** The fields of a `WechatApiError` that may be logged as they are. */
export interface WechatErrorLogFields {
  readonly api: WechatApi;
  readonly failure: WechatFailure;
  readonly code: ErrorCode;
  readonly errcode?: number;
  readonly httpStatus?: number;
}

export class WechatApiError extends WxstreamError {
  readonly api: WechatApi;
  readonly failure: WechatFailure;
  readonly errcode: number | undefined;
  readonly httpStatus: number | undefined;

  constructor(code: ErrorCode, init: WechatApiErrorInit) {
    super(code, `WeChat ${init.api}: ${init.detail}`, {
      ...(init.retryable === undefined ? {} : { retryable: init.retryable }),
      ...(init.cause === undefined ? {} : { cause: init.cause }),
    });
    this.name = 'WechatApiError';
    this.api = init.api;
    this.failure = init.failure;
    this.errcode = init.errcode;
    this.httpStatus = init.httpStatus;
  }

  logFields(): WechatErrorLogFields {
    return {
      api: this.api,
      failure: this.failure,
      code: this.code,
      ...(this.errcode === undefined ? {} : { errcode: this.errcode }),
      ...(this.httpStatus === undefined ? {} : { httpStatus: this.httpStatus }),
    };
  }
}

export function isAccessTokenRejection(error: unknown): error is WechatApiError {
  return error instanceof WechatApiError && error.errcode !== undefined && ACCESS_TOKEN_REJECTIONS.has(error.errcode);
}

const MAX_DETAIL_CHARS = 200;

/**
 * Cuts every secret value out of text that came from outside (WeChat's errmsg, an exception
 * message) and caps its length. Values shorter than 4 characters are left alone: cutting them would
 * mangle ordinary words and they are no real secrets.
 */
export function redactWechatText(text: string, secrets: readonly string[]): string {
  let redacted = text;
  for (const secret of secrets) {
    if (secret.length >= 4) redacted = redacted.split(secret).join('[redacted]');
  }
  // One line, no control characters: the text ends up in logs and JSON error bodies.
  redacted = redacted.replace(/[\u0000-\u001f\u007f]+/g, ' ');
  return redacted.length > MAX_DETAIL_CHARS ? `${redacted.slice(0, MAX_DETAIL_CHARS)}…` : redacted;
}
