/**
 * WeChat settings, read from an environment-like record by a pure function.
 *
 * Contract: `loadWechatConfig(env)` never reads `process.env` and has no side effects; it returns a
 * complete `WechatConfig` or throws one `ConfigError` listing every invalid variable.
 *
 * - `WECHAT_APPID` + `WECHAT_SECRET`: both or neither. With neither, `credentials` is undefined:
 *   no WeChat login and no content check (the server falls back to its other login and to
 *   `NoContentChecker`). With only one, the configuration is refused rather than half-working.
 * - `WECHAT_API_BASE_URL` (default `https://api.weixin.qq.com`): tests point it at a local fake.
 * - `WECHAT_TIMEOUT_MS` (default 5000): per call, headers and body.
 * - `CONTENT_CHECK_FAIL_OPEN` (default `false`): what happens to text when the check itself cannot
 *   run (WeChat down, quota reached). `false`/`none`: refuse it (fail closed) — mini-programs must
 *   keep unchecked text out, and the operator is the one accountable for it. `true`/`all`: let it
 *   through (logged). `user` or `assistant`: fail open for that role only, e.g. `assistant` keeps
 *   a reply whose input was already checked from being cut off by a WeChat hiccup mid-stream.
 */
import { ConfigError, type Env } from '../config.ts';
import { DEFAULT_WECHAT_API_BASE_URL, DEFAULT_WECHAT_TIMEOUT_MS } from './wechat-http.ts';

export interface WechatCredentials {
  readonly appid: string;
  readonly secret: string;
}

export interface ContentCheckFailOpen {
  readonly user: boolean;
  readonly assistant: boolean;
}

export interface WechatConfig {
  readonly credentials: WechatCredentials | undefined;
  readonly apiBaseUrl: string;
  readonly timeoutMs: number;
  readonly contentCheckFailOpen: ContentCheckFailOpen;
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}

function parseFailOpen(raw: string | undefined, problems: string[]): ContentCheckFailOpen {
  const value = nonEmpty(raw)?.toLowerCase();
  if (value === undefined || value === 'false' || value === 'none' || value === '0' || value === 'no' || value === 'off') {
    return { user: false, assistant: false };
  }
  if (value === 'true' || value === 'all' || value === '1' || value === 'yes' || value === 'on') {
    return { user: true, assistant: true };
  }
  const roles = value.split(',').map((role) => role.trim());
  if (roles.every((role) => role === 'user' || role === 'assistant')) {
    return { user: roles.includes('user'), assistant: roles.includes('assistant') };
  }
  problems.push(`CONTENT_CHECK_FAIL_OPEN must be false, true, user, assistant or user,assistant, got "${value}"`);
  return { user: false, assistant: false };
}

export function loadWechatConfig(env: Env): WechatConfig {
  const problems: string[] = [];

  const appid = nonEmpty(env.WECHAT_APPID);
  const secret = nonEmpty(env.WECHAT_SECRET);
  if ((appid === undefined) !== (secret === undefined)) {
    problems.push('WECHAT_APPID and WECHAT_SECRET must be set together (or neither, to run without WeChat)');
  }

  let apiBaseUrl = DEFAULT_WECHAT_API_BASE_URL;
  const baseRaw = nonEmpty(env.WECHAT_API_BASE_URL);
  if (baseRaw !== undefined) {
    let valid = false;
    try {
      const url = new URL(baseRaw);
      valid = (url.protocol === 'http:' || url.protocol === 'https:') && url.search === '' && url.hash === '';
    } catch {
      valid = false;
    }
    if (valid) apiBaseUrl = baseRaw.replace(/\/+$/, '');
    else problems.push(`WECHAT_API_BASE_URL must be an http(s) URL without query, got "${baseRaw}"`);
  }

  let timeoutMs = DEFAULT_WECHAT_TIMEOUT_MS;
  const timeoutRaw = nonEmpty(env.WECHAT_TIMEOUT_MS);
  if (timeoutRaw !== undefined) {
    const value = /^\d+$/.test(timeoutRaw) ? Number(timeoutRaw) : Number.NaN;
    if (value >= 1 && value <= 120_000) timeoutMs = value;
    else problems.push(`WECHAT_TIMEOUT_MS must be a whole number between 1 and 120000, got "${timeoutRaw}"`);
  }

  const contentCheckFailOpen = parseFailOpen(env.CONTENT_CHECK_FAIL_OPEN, problems);

  if (problems.length > 0) throw new ConfigError(problems);
  return {
    credentials: appid !== undefined && secret !== undefined ? { appid, secret } : undefined,
    apiBaseUrl,
    timeoutMs,
    contentCheckFailOpen,
  };
}
