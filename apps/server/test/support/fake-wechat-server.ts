/**
 * A fake of WeChat's server API on a real loopback port: `/sns/jscode2session`,
 * `/cgi-bin/stable_token` and `/wxa/msg_sec_check`.
 *
 * Contract: it checks every request the way WeChat does and answers WeChat's errcodes when one is
 * wrong — wrong method (43302), missing or wrong appid/secret (41002/41004/40013/40125), wrong
 * grant_type (40002), missing code (41008), unknown code (40029), used code (40163), missing
 * access token (41001), unknown or superseded token (40001), expired token (42001), body that is
 * not JSON (47001), version other than 2 (47001), unknown openid (40003), scene outside 1–4
 * (40129), empty content (44002), content over 2,500 characters (47001). Tokens follow WeChat's
 * stable_token rules on the injected `now`: normal mode returns the current token until five
 * minutes before its expiry and a new one from then on (the old one keeps working until it
 * expires); force_refresh replaces the token at once, at most 20 times a day and not within 30 s
 * of the previous one (then it returns the current token unchanged). Content containing a risky
 * word answers `risky`, a review word `review`, anything else `pass`.
 *
 * Scripting: `addLoginCode` maps codes to openids; `setFailure`/`failNext` make an endpoint
 * answer rate-limited (45011), busy (-1), down (HTTP 502), hang (never answer) or not-json;
 * `expireAccessTokens` / `revokeAccessTokens` make issued tokens answer 42001 / 40001. Every
 * request is recorded (method, path, query, content type, parsed body) before it is answered.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const FAKE_APPID = 'wxfake0123456789ab';
export const FAKE_SECRET = 'fake-app-secret-0123456789abcdef';
export const FAKE_RISKY_LABEL = 20006;
export const FAKE_REVIEW_LABEL = 20012;
const NORMAL_LABEL = 100;
const MAX_CONTENT_CHARS = 2500;
const STABLE_RENEW_WINDOW_MS = 5 * 60_000;
const FORCE_REFRESH_INTERVAL_MS = 30_000;
const FORCE_REFRESH_DAILY_LIMIT = 20;

export type FakeEndpoint = 'jscode2session' | 'stable_token' | 'msg_sec_check';
export type FakeFailure = 'rate-limited' | 'busy' | 'down' | 'hang' | 'not-json';

export interface RecordedRequest {
  readonly endpoint: FakeEndpoint | 'unknown';
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly contentType: string | undefined;
  /** Parsed JSON body, or undefined when absent or not JSON. */
  readonly body: unknown;
}

export interface FakeWechatOptions {
  readonly appid?: string;
  readonly secret?: string;
  /** Milliseconds since the epoch; tokens expire against this. Default `Date.now`. */
  readonly now?: () => number;
  readonly tokenTtlSeconds?: number;
  readonly riskyWords?: readonly string[];
  readonly reviewWords?: readonly string[];
}

export interface FakeWechatServer {
  readonly baseUrl: string;
  readonly appid: string;
  readonly secret: string;
  readonly requests: readonly RecordedRequest[];
  requestsTo(endpoint: FakeEndpoint): RecordedRequest[];
  /** Resolves once `count` requests in total have been recorded. */
  waitForRequests(count: number): Promise<void>;
  addLoginCode(code: string, openid: string, unionid?: string): void;
  /** Every token handed out so far, in order. */
  readonly issuedTokens: readonly string[];
  setFailure(endpoint: FakeEndpoint, failure: FakeFailure | undefined): void;
  failNext(endpoint: FakeEndpoint, failure: FakeFailure, times?: number): void;
  /** Every token issued so far answers 42001 from now on; normal mode then hands out a new one. */
  expireAccessTokens(): void;
  /**
   * Every token issued so far answers 40001. With `keepHandingOut`, normal mode still returns the
   * current token (as WeChat does for a token it considers current), so only force_refresh helps.
   */
  revokeAccessTokens(options?: { keepHandingOut?: boolean }): void;
  close(): Promise<void>;
}

interface IssuedToken {
  readonly token: string;
  readonly expiresAt: number;
  state: 'valid' | 'expired' | 'revoked';
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; encoding=utf-8' });
  res.end(JSON.stringify(body));
}

function errcode(res: ServerResponse, code: number, message: string): void {
  send(res, 200, { errcode: code, errmsg: `${message} rid: ${randomBytes(4).toString('hex')}` });
}

function endpointOf(path: string): FakeEndpoint | 'unknown' {
  if (path === '/sns/jscode2session') return 'jscode2session';
  if (path === '/cgi-bin/stable_token') return 'stable_token';
  if (path === '/wxa/msg_sec_check') return 'msg_sec_check';
  return 'unknown';
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startFakeWechatServer(options: FakeWechatOptions = {}): Promise<FakeWechatServer> {
  const appid = options.appid ?? FAKE_APPID;
  const secret = options.secret ?? FAKE_SECRET;
  const now = options.now ?? Date.now;
  const ttlMs = (options.tokenTtlSeconds ?? 7200) * 1000;
  const riskyWords = options.riskyWords ?? [];
  const reviewWords = options.reviewWords ?? [];

  const requests: RecordedRequest[] = [];
  const waiters: Array<{ count: number; resolve: () => void }> = [];
  const codes = new Map<string, { openid: string; unionid: string | undefined; used: boolean }>();
  const knownOpenids = new Set<string>();
  const tokens = new Map<string, IssuedToken>();
  const issuedTokens: string[] = [];
  let current: IssuedToken | undefined;
  let handOutRevoked = false;
  const forcedAt: number[] = [];
  const failures = new Map<FakeEndpoint, FakeFailure>();
  const queued = new Map<FakeEndpoint, FakeFailure[]>();

  const issueToken = (): IssuedToken => {
    const issued: IssuedToken = { token: `fake-access-token-${randomBytes(12).toString('hex')}`, expiresAt: now() + ttlMs, state: 'valid' };
    tokens.set(issued.token, issued);
    issuedTokens.push(issued.token);
    current = issued;
    handOutRevoked = false;
    return issued;
  };

  const answerToken = (res: ServerResponse, issued: IssuedToken): void => {
    send(res, 200, { access_token: issued.token, expires_in: Math.max(0, Math.floor((issued.expiresAt - now()) / 1000)) });
  };

  const jscode2session = (req: IncomingMessage, res: ServerResponse, query: Record<string, string>): void => {
    if (req.method !== 'GET') return errcode(res, 43302, 'require GET method');
    if (query.appid === undefined || query.appid === '') return errcode(res, 41002, 'appid missing');
    if (query.secret === undefined || query.secret === '') return errcode(res, 41004, 'appsecret missing');
    if (query.appid !== appid) return errcode(res, 40013, 'invalid appid');
    if (query.secret !== secret) return errcode(res, 40125, 'invalid appsecret');
    if (query.grant_type !== 'authorization_code') return errcode(res, 40002, 'invalid grant_type');
    if (query.js_code === undefined || query.js_code === '') return errcode(res, 41008, 'missing code');
    const entry = codes.get(query.js_code);
    if (entry === undefined) return errcode(res, 40029, 'invalid code');
    if (entry.used) return errcode(res, 40163, 'code been used');
    entry.used = true;
    send(res, 200, {
      session_key: randomBytes(16).toString('base64'),
      openid: entry.openid,
      ...(entry.unionid === undefined ? {} : { unionid: entry.unionid }),
    });
  };

  const stableToken = (req: IncomingMessage, res: ServerResponse, contentType: string | undefined, body: unknown): void => {
    if (req.method !== 'POST') return errcode(res, 43302, 'require POST method');
    // WeChat reads only JSON bodies here; anything else looks like a request without an appid.
    if (!contentType?.startsWith('application/json') || typeof body !== 'object' || body === null) return errcode(res, 41002, 'appid missing');
    const fields = body as Record<string, unknown>;
    if (fields.grant_type !== 'client_credential') return errcode(res, 40002, 'invalid grant_type');
    if (typeof fields.appid !== 'string' || fields.appid === '') return errcode(res, 41002, 'appid missing');
    if (typeof fields.secret !== 'string' || fields.secret === '') return errcode(res, 41004, 'appsecret missing');
    if (fields.appid !== appid) return errcode(res, 40013, 'invalid appid');
    if (fields.secret !== secret) return errcode(res, 40125, 'invalid appsecret');
    if (fields.force_refresh !== undefined && typeof fields.force_refresh !== 'boolean') return errcode(res, 47001, 'data format error');
    const at = now();
    if (fields.force_refresh === true) {
      while (forcedAt.length > 0 && (forcedAt[0] ?? at) <= at - 24 * 60 * 60_000) forcedAt.shift();
      if (forcedAt.length >= FORCE_REFRESH_DAILY_LIMIT) return errcode(res, 45009, 'reach max api daily quota limit');
      const last = forcedAt.at(-1);
      if (current !== undefined && last !== undefined && at - last < FORCE_REFRESH_INTERVAL_MS) return answerToken(res, current);
      forcedAt.push(at);
      if (current !== undefined) current.state = 'revoked';
      return answerToken(res, issueToken());
    }
    const usable = current !== undefined && (current.state === 'valid' || (current.state === 'revoked' && handOutRevoked));
    if (current !== undefined && usable && current.expiresAt - at > STABLE_RENEW_WINDOW_MS) return answerToken(res, current);
    return answerToken(res, issueToken());
  };

  const msgSecCheck = (req: IncomingMessage, res: ServerResponse, query: Record<string, string>, contentType: string | undefined, body: unknown): void => {
    if (req.method !== 'POST') return errcode(res, 43302, 'require POST method');
    const accessToken = query.access_token;
    if (accessToken === undefined || accessToken === '') return errcode(res, 41001, 'access_token missing');
    const issued = tokens.get(accessToken);
    if (issued === undefined || issued.state === 'revoked') return errcode(res, 40001, 'invalid credential, access_token is invalid or not latest');
    if (issued.state === 'expired' || now() >= issued.expiresAt) return errcode(res, 42001, 'access_token expired');
    if (!contentType?.startsWith('application/json') || typeof body !== 'object' || body === null) return errcode(res, 47001, 'data format error');
    const fields = body as Record<string, unknown>;
    if (fields.version !== 2) return errcode(res, 47001, 'data format error: version must be 2');
    if (typeof fields.openid !== 'string' || fields.openid === '') return errcode(res, 44002, 'empty openid');
    if (!knownOpenids.has(fields.openid)) return errcode(res, 40003, 'invalid openid');
    if (fields.scene !== 1 && fields.scene !== 2 && fields.scene !== 3 && fields.scene !== 4) return errcode(res, 40129, 'invalid scene');
    if (typeof fields.content !== 'string' || fields.content.trim() === '') return errcode(res, 44002, 'empty content');
    if ([...fields.content].length > MAX_CONTENT_CHARS) return errcode(res, 47001, 'data format error: content too long');
    const content = fields.content;
    const riskyWord = riskyWords.find((word) => content.includes(word));
    const reviewWord = reviewWords.find((word) => content.includes(word));
    const suggest = riskyWord !== undefined ? 'risky' : reviewWord !== undefined ? 'review' : 'pass';
    const label = riskyWord !== undefined ? FAKE_RISKY_LABEL : reviewWord !== undefined ? FAKE_REVIEW_LABEL : NORMAL_LABEL;
    send(res, 200, {
      errcode: 0,
      errmsg: 'ok',
      result: { suggest, label },
      detail: [
        { strategy: 'content_model', errcode: 0, suggest, label, prob: suggest === 'pass' ? 0 : 90 },
        { strategy: 'keyword', errcode: 0, ...(suggest === 'pass' ? {} : { suggest, label, level: 20, keyword: riskyWord ?? reviewWord }) },
      ],
      trace_id: `trace-${randomBytes(6).toString('hex')}`,
    });
  };

  const failureFor = (endpoint: FakeEndpoint): FakeFailure | undefined => {
    const queue = queued.get(endpoint);
    if (queue !== undefined && queue.length > 0) return queue.shift();
    return failures.get(endpoint);
  };

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://fake.wechat');
      const query = Object.fromEntries(url.searchParams);
      const raw = await readBody(req);
      let body: unknown;
      try {
        body = raw === '' ? undefined : JSON.parse(raw);
      } catch {
        body = undefined;
      }
      const contentType = req.headers['content-type'];
      const endpoint = endpointOf(url.pathname);
      requests.push({ endpoint, method: req.method ?? '', path: url.pathname, query, contentType, body });
      for (const waiter of waiters.filter((w) => requests.length >= w.count)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
      if (endpoint === 'unknown') return send(res, 404, { errcode: 404, errmsg: 'not found' });

      switch (failureFor(endpoint)) {
        case 'hang':
          return;
        case 'down':
          res.writeHead(502, { 'content-type': 'text/html' });
          return res.end('<html><body>502 Bad Gateway</body></html>');
        case 'not-json':
          res.writeHead(200, { 'content-type': 'text/html' });
          return res.end('<html>maintenance</html>');
        case 'busy':
          return errcode(res, -1, 'system error');
        case 'rate-limited':
          return errcode(res, 45011, 'api minute-quota reach limit mustslower retry next minute');
        case undefined:
          break;
      }
      if (endpoint === 'jscode2session') return jscode2session(req, res, query);
      if (endpoint === 'stable_token') return stableToken(req, res, contentType, body);
      return msgSecCheck(req, res, query, contentType, body);
    })();
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    appid,
    secret,
    requests,
    requestsTo: (endpoint) => requests.filter((request) => request.endpoint === endpoint),
    waitForRequests(count) {
      if (requests.length >= count) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ count, resolve }));
    },
    addLoginCode(code, openid, unionid) {
      codes.set(code, { openid, unionid, used: false });
      knownOpenids.add(openid);
    },
    issuedTokens,
    setFailure(endpoint, failure) {
      if (failure === undefined) failures.delete(endpoint);
      else failures.set(endpoint, failure);
    },
    failNext(endpoint, failure, times = 1) {
      const queue = queued.get(endpoint) ?? [];
      for (let i = 0; i < times; i++) queue.push(failure);
      queued.set(endpoint, queue);
    },
    expireAccessTokens() {
      for (const issued of tokens.values()) if (issued.state === 'valid') issued.state = 'expired';
    },
    revokeAccessTokens(revokeOptions) {
      for (const issued of tokens.values()) issued.state = 'revoked';
      handOutRevoked = revokeOptions?.keepHandingOut === true;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}
