/**
 * Assembles the WeChat pieces the server uses from a `WechatConfig`.
 *
 * Contract: with credentials, `login` exchanges `wx.login` codes and `contentChecker` checks text
 * through msgSecCheck, both sharing one HTTP client and one access token cache. Without
 * credentials, `login` is undefined (the server keeps its other login, or refuses) and
 * `contentChecker` is a `NoContentChecker`, so nothing is ever sent to WeChat.
 */
import type { Clock } from '../clock.ts';
import type { Logger } from '../logger.ts';
import { createAccessTokenCache } from './access-token-cache.ts';
import { createCodeToSession, type CodeToSession } from './code-to-session.ts';
import { NoContentChecker, type ContentChecker } from './content-checker.ts';
import { createWechatContentChecker } from './msg-sec-check.ts';
import type { WechatConfig } from './wechat-config.ts';
import { createWechatHttp } from './wechat-http.ts';

export interface WechatServices {
  readonly login: CodeToSession | undefined;
  readonly contentChecker: ContentChecker;
}

export function createWechatServices(options: { config: WechatConfig; clock: Clock; logger: Logger }): WechatServices {
  const { config, clock } = options;
  const credentials = config.credentials;
  if (credentials === undefined) return { login: undefined, contentChecker: new NoContentChecker() };
  const logger = options.logger.child({ component: 'wechat' });
  const http = createWechatHttp({ baseUrl: config.apiBaseUrl, timeoutMs: config.timeoutMs, clock, logger });
  const tokens = createAccessTokenCache({ http, credentials, clock, logger });
  return {
    login: createCodeToSession({ http, credentials }),
    contentChecker: createWechatContentChecker({ http, tokens, logger, failOpen: config.contentCheckFailOpen }),
  };
}
