/**
 * Login: trades a `wx.login` code for the user's WeChat identity (`jscode2session`).
 *
 * Contract: `exchange(code)` resolves with `{ openid, unionid? }` or rejects with a
 * `WechatApiError` — `login_code_invalid` for a code WeChat does not accept (invalid, already
 * used, missing), `rate_limited` when WeChat throttles us, `wechat_unavailable` when WeChat cannot
 * answer, `login_failed` for everything else (see wechat-errors.ts). The `session_key` WeChat
 * returns is read past and dropped: nothing here decrypts user data, so holding it would only be
 * a liability. The code is single-use: a caller must not retry an exchange with the same code.
 */
import type { WechatCredentials } from './wechat-config.ts';
import { WechatApiError } from './wechat-errors.ts';
import type { WechatHttp } from './wechat-http.ts';

export interface WechatIdentity {
  /** The user's id within this mini-program. */
  readonly openid: string;
  /** The user's id across the operator's apps; only when the app is bound to an Open Platform account. */
  readonly unionid?: string;
}

export interface CodeToSession {
  exchange(code: string, options?: { signal?: AbortSignal }): Promise<WechatIdentity>;
}

export function createCodeToSession(deps: { http: WechatHttp; credentials: WechatCredentials }): CodeToSession {
  const { appid, secret } = deps.credentials;
  return {
    async exchange(code, options) {
      const answer = await deps.http.call({
        api: 'jscode2session',
        method: 'GET',
        path: '/sns/jscode2session',
        query: { appid, secret, js_code: code, grant_type: 'authorization_code' },
        secrets: [secret, code],
        ...(options?.signal === undefined ? {} : { signal: options.signal }),
      });
      const { openid, unionid } = answer;
      if (typeof openid !== 'string' || openid === '') {
        throw new WechatApiError('wechat_unavailable', {
          api: 'jscode2session',
          failure: 'bad_response',
          detail: 'answer has no openid',
        });
      }
      return typeof unionid === 'string' && unionid !== '' ? { openid, unionid } : { openid };
    },
  };
}
