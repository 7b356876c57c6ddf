/**
 * WeChat login: trades a `wx.login` code for a token of user `wechat:<openid>`.
 *
 * Contract: `POST /api/auth/login {"code"}` → `{"token","expiresIn"}`. The code is exchanged once
 * through jscode2session; the user is created on first login. WeChat's failures become the
 * protocol's codes: a code WeChat refuses (invalid, used, missing) → 401 `login_code_invalid`;
 * WeChat throttling us → 429 `rate_limited` with `Retry-After` (WeChat's minute quota clears within
 * a minute); WeChat unreachable or broken → 503 `wechat_unavailable`; our own misconfiguration →
 * 400 `login_failed` (logged at error level by the WeChat client). The session key never leaves
 * `code-to-session.ts`, and neither the code nor the openid is logged.
 */
import type { Middleware } from 'koa';
import type { LoginResponse } from '@wxstream/protocol';
import type { AppState } from '../app-state.ts';
import { readJsonBody } from '../http/json-body.ts';
import { LimitExceededError } from '../limits/limit-exceeded-error.ts';
import type { ConversationStore } from '../storage/conversation-store.ts';
import type { CodeToSession } from '../wechat/code-to-session.ts';
import { WechatApiError } from '../wechat/wechat-errors.ts';
import { parseLoginCode } from './dev-login.ts';
import { wechatIdentity } from './identity.ts';
import type { TokenService } from './token.ts';

/** WeChat's minute quota (45011) says "retry next minute". */
export const WECHAT_THROTTLE_RETRY_AFTER_MS = 60_000;

export interface WechatLoginDeps {
  login: CodeToSession;
  tokens: TokenService;
  store: Pick<ConversationStore, 'ensureUser'>;
  maxBodyBytes: number;
}

export function wechatLogin(deps: WechatLoginDeps): Middleware<AppState> {
  return async (ctx) => {
    const code = parseLoginCode(await readJsonBody(ctx.req, { maxBytes: deps.maxBodyBytes }));
    let openid: string;
    try {
      ({ openid } = await deps.login.exchange(code));
    } catch (error) {
      if (error instanceof WechatApiError && error.code === 'rate_limited') {
        throw new LimitExceededError('rate_limited', 'WeChat is throttling logins; retry in a minute', {
          retryAfterMs: WECHAT_THROTTLE_RETRY_AFTER_MS,
        });
      }
      throw error;
    }
    const user = await deps.store.ensureUser(wechatIdentity(openid));
    const issued = deps.tokens.issue(user.identity);
    const answer: LoginResponse = { token: issued.token, expiresIn: issued.expiresIn };
    ctx.set('Cache-Control', 'no-store');
    ctx.body = answer;
    ctx.state.log.info({ userId: user.id }, 'WeChat login issued a token');
  };
}
