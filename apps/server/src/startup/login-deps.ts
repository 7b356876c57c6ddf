/**
 * How users log in, decided once at start-up from the configuration and what WeChat offers:
 * WeChat login when its credentials are set (the development login is then refused even if asked
 * for), the development login when allowed, or none. Each choice is said in the start-up log,
 * together with whether content checks run.
 */
import type { LoginDeps } from '../app.ts';
import type { Logger } from '../logger.ts';
import type { ServerConfig } from '../server-config.ts';
import type { CodeToSession } from '../wechat/code-to-session.ts';

export function loginDeps(config: ServerConfig, exchange: CodeToSession | undefined, logger: Logger): LoginDeps {
  const login = chooseLogin(config, exchange, logger);
  logger.info(
    {
      login: login.mode,
      contentChecks: exchange === undefined ? 'off' : 'msgSecCheck',
      ...(exchange === undefined ? {} : { wechatApiBaseUrl: config.wechat.apiBaseUrl }),
    },
    exchange === undefined
      ? 'WeChat is not configured (WECHAT_APPID / WECHAT_SECRET unset): no WeChat login, no content checks'
      : 'WeChat login and msgSecCheck content checks are on',
  );
  return login;
}

function chooseLogin(config: ServerConfig, exchange: CodeToSession | undefined, logger: Logger): LoginDeps {
  if (config.login === 'wechat' && exchange !== undefined) {
    if (config.devLoginOverridden) logger.warn('DEV_LOGIN=true is ignored: WeChat credentials are configured, so only WeChat login is offered');
    return { mode: 'wechat', exchange };
  }
  if (config.login === 'dev') {
    logger.warn(
      { login: 'dev' },
      'development mode: POST /api/auth/login accepts ANY code as user dev:<code>, with no WeChat check. ' +
        'Set WECHAT_APPID and WECHAT_SECRET for real logins (or DEV_LOGIN=false to refuse logins)',
    );
    return { mode: 'dev' };
  }
  logger.warn('no login is available: WeChat is not configured and DEV_LOGIN is off; POST /api/auth/login answers 403 dev_login_disabled');
  return { mode: 'disabled' };
}
