/**
 * Where the mini-program finds the wxstream server — the one place to change it.
 *
 * Local development: run the server (`pnpm start` at the repository root) and, in WeChat DevTools,
 * tick 详情 → 本地设置 → "不校验合法域名、web-view（业务域名）、TLS 版本以及 HTTPS 证书" so plain
 * http://127.0.0.1 is allowed (the root project.config.json already sets urlCheck: false). A phone
 * cannot reach 127.0.0.1: for 真机调试 use the computer's LAN address.
 * Production: an HTTPS domain with a valid certificate, registered in the mini-program admin console
 * (开发管理 → 开发设置 → 服务器域名 → request 合法域名).
 */
export const SERVER_URL = 'http://127.0.0.1:3000';
