/**
 * One JSON request over `wx.request`, as a promise of a 2xx answer or a `WxstreamError`.
 *
 * Contract: resolves with `{ statusCode, data }` for any 2xx status, `data` as wx hands it over with
 * `dataType: 'json'` (the parsed value; the raw text when the body is not JSON; '' for an empty body
 * such as a 204). Rejects only with a `WxstreamError`: `network_error` when wx reports a failure or
 * throws (no connection, timeout, a refused parameter), the server's own code and status for a non-2xx
 * answer with an error body, and for a non-2xx answer without one (empty, a proxy's HTML page) the code
 * its status means (`errorFromStatus`, shared with the stream transport: 401 `invalid_token`, 404
 * `not_found`, 409, 413, 429, else `http_error`, retryable for 5xx, 408 and 429 only). With `token`,
 * the request carries `Authorization: Bearer <token>`. `wx.request` comes in by injection, typed as
 * just the parts used, so Node tests drive a fake.
 */
import { errorFromStatus, parseErrorBody, WxstreamError } from '../vendor/wxstream-client.js';

/**
 * The methods this client uses. `wx.request` accepts OPTIONS, GET, HEAD, POST, PUT, DELETE, TRACE and
 * CONNECT only — there is no PATCH on WeChat, so a route that needs one cannot be called from here.
 */
export type JsonMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

interface WxFail {
  errMsg: string;
}

export interface WxJsonRequestOptions {
  url: string;
  method: JsonMethod;
  data?: object;
  header: Record<string, string>;
  dataType: 'json';
  timeout: number;
  success(result: { statusCode: number; data: unknown }): void;
  fail(error: WxFail): void;
}

/** `wx.request` as this module uses it. */
export type WxJsonRequest = (options: WxJsonRequestOptions) => unknown;

export interface JsonRequest {
  url: string;
  method: JsonMethod;
  /** Sent as the JSON body. */
  body?: object;
  token?: string;
  timeoutMs: number;
}

export interface JsonResponse {
  statusCode: number;
  data: unknown;
}

/** How much of a non-JSON error body goes into the developer message. */
const ERROR_SNIPPET_CHARS = 120;

export function requestJson(request: WxJsonRequest, options: JsonRequest): Promise<JsonResponse> {
  return new Promise((resolve, reject) => {
    const header: Record<string, string> = {};
    if (options.body !== undefined) header['Content-Type'] = 'application/json';
    if (options.token !== undefined) header.Authorization = `Bearer ${options.token}`;
    const where = `${options.method} ${pathOf(options.url)}`;
    const wxOptions: WxJsonRequestOptions = {
      url: options.url,
      method: options.method,
      header,
      dataType: 'json',
      timeout: options.timeoutMs,
      success: (result) => {
        if (result.statusCode >= 200 && result.statusCode < 300) resolve({ statusCode: result.statusCode, data: result.data });
        else reject(errorFromAnswer(where, result.statusCode, result.data));
      },
      fail: (error) => reject(new WxstreamError('network_error', `${where} failed: ${error.errMsg}`)),
    };
    if (options.body !== undefined) wxOptions.data = options.body;
    try {
      request(wxOptions);
    } catch (cause) {
      reject(new WxstreamError('network_error', `${where}: wx.request threw: ${String(cause)}`, { cause }));
    }
  });
}

/** The error a non-2xx answer stands for. */
export function errorFromAnswer(where: string, status: number, data: unknown): WxstreamError {
  const wire = parseErrorBody(data);
  if (wire !== undefined) return new WxstreamError(wire.code, wire.message, { retryable: wire.retryable, status });
  // No readable error body (empty, missing, a proxy's page): the status says what it means, as in streams.
  const text = typeof data === 'string' ? data.slice(0, ERROR_SNIPPET_CHARS) : '';
  const meant = errorFromStatus(status, text);
  return new WxstreamError(meant.code, `${where} answered ${meant.message}`, { status, retryable: meant.retryable });
}

/** The path of a URL, for messages: the server address adds nothing to a log line. */
function pathOf(url: string): string {
  const match = /^[a-z]+:\/\/[^/]+(\/.*)?$/i.exec(url);
  return match ? (match[1] ?? '/') : url;
}
