/**
 * The closed set of error codes shared by server and clients.
 *
 * Contract: every error a user or developer can see — a pre-stream JSON error body, an in-band `error`
 * event, or a failure the client detects itself — carries one of these codes. Adding a code is a
 * protocol change: add it here with its HTTP status, whether retrying can help, and the message a
 * WeChat user sees (Chinese, since that is who reads it). Server `message` strings are for developers
 * and logs; the UI shows `userMessageFor(code)`.
 */

export interface ErrorCodeSpec {
  /** HTTP status when the error is answered before the stream starts. */
  readonly status: number;
  /** Whether sending the same request again may succeed. */
  readonly retryable: boolean;
  /** What the chat UI shows, in Chinese. */
  readonly userMessage: string;
  /** Where the code can originate: the server, or the client detecting it on its own. */
  readonly origin: 'server' | 'client';
}

export const ERROR_CODES = {
  // Request validation (before the stream).
  invalid_json: { status: 400, retryable: false, origin: 'server', userMessage: '请求格式有误，请更新小程序后重试。' },
  invalid_request: { status: 400, retryable: false, origin: 'server', userMessage: '请求内容有误，请检查后重试。' },
  message_required: { status: 400, retryable: false, origin: 'server', userMessage: '请输入要发送的内容。' },
  message_too_long: { status: 400, retryable: false, origin: 'server', userMessage: '消息太长了，请精简后再发送。' },
  payload_too_large: { status: 413, retryable: false, origin: 'server', userMessage: '发送的内容太大了。' },
  unsupported_media_type: { status: 415, retryable: false, origin: 'server', userMessage: '请求格式有误，请更新小程序后重试。' },
  // Identity.
  unauthorized: { status: 401, retryable: false, origin: 'server', userMessage: '请先登录。' },
  invalid_token: { status: 401, retryable: false, origin: 'server', userMessage: '登录状态无效，请重新登录。' },
  token_expired: { status: 401, retryable: false, origin: 'server', userMessage: '登录已过期，请重新登录。' },
  login_failed: { status: 400, retryable: false, origin: 'server', userMessage: '登录失败，请稍后重试。' },
  login_code_invalid: { status: 401, retryable: false, origin: 'server', userMessage: '登录凭证无效，请重新进入小程序。' },
  dev_login_disabled: { status: 403, retryable: false, origin: 'server', userMessage: '服务器未配置登录方式，请联系管理员。' },
  wechat_unavailable: { status: 503, retryable: true, origin: 'server', userMessage: '微信服务暂时不可用，请稍后重试。' },
  // Routing.
  not_found: { status: 404, retryable: false, origin: 'server', userMessage: '请求的内容不存在。' },
  method_not_allowed: { status: 405, retryable: false, origin: 'server', userMessage: '请求方式有误。' },
  // Limits.
  rate_limited: { status: 429, retryable: true, origin: 'server', userMessage: '发送太频繁了，请稍后再试。' },
  quota_exceeded: { status: 429, retryable: true, origin: 'server', userMessage: '今天的额度已用完，明天再来吧。' },
  reply_in_progress: { status: 409, retryable: true, origin: 'server', userMessage: '上一条回复还没结束，请稍候。' },
  conversation_too_long: { status: 409, retryable: false, origin: 'server', userMessage: '这个对话太长了，请开始新对话。' },
  too_many_streams: { status: 429, retryable: true, origin: 'server', userMessage: '同时打开的回复太多了，请关闭一些后再试。' },
  too_many_readers: { status: 429, retryable: true, origin: 'server', userMessage: '这条回复正在太多地方同时读取，请稍后再试。' },
  server_busy: { status: 503, retryable: true, origin: 'server', userMessage: '服务器繁忙，请稍后重试。' },
  // Content security.
  content_blocked: { status: 422, retryable: false, origin: 'server', userMessage: '内容可能不合规，无法继续。' },
  // Upstream model provider.
  upstream_timeout: { status: 504, retryable: true, origin: 'server', userMessage: 'AI 长时间没有响应，请重试。' },
  upstream_rate_limited: { status: 503, retryable: true, origin: 'server', userMessage: 'AI 服务繁忙，请稍后重试。' },
  upstream_unavailable: { status: 502, retryable: true, origin: 'server', userMessage: 'AI 服务暂时不可用，请稍后重试。' },
  upstream_auth_failed: { status: 502, retryable: false, origin: 'server', userMessage: 'AI 服务配置有误，请联系管理员。' },
  upstream_bad_request: { status: 502, retryable: false, origin: 'server', userMessage: 'AI 服务拒绝了这个请求。' },
  upstream_error: { status: 502, retryable: true, origin: 'server', userMessage: 'AI 服务出错了，请重试。' },
  // Voice replies. A segment that fails is skipped (its text still arrives); audio links are signed.
  tts_failed: { status: 502, retryable: true, origin: 'server', userMessage: '这段语音没能合成，已跳过。' },
  tts_unavailable: { status: 503, retryable: false, origin: 'server', userMessage: '语音朗读暂时不可用。' },
  invalid_voice: { status: 400, retryable: false, origin: 'server', userMessage: '所选的声音不可用，请换一个。' },
  audio_link_invalid: { status: 403, retryable: false, origin: 'server', userMessage: '语音链接无效。' },
  audio_range_not_satisfiable: { status: 416, retryable: false, origin: 'server', userMessage: '语音数据请求有误。' },
  // Voice input (POST /api/transcriptions). Limits reuse rate_limited / quota_exceeded / payload_too_large.
  audio_required: { status: 400, retryable: false, origin: 'server', userMessage: '没有收到录音，请重新录一遍。' },
  audio_unsupported: { status: 415, retryable: false, origin: 'server', userMessage: '不支持这种录音格式，请更新小程序后重试。' },
  audio_corrupt: { status: 400, retryable: false, origin: 'server', userMessage: '录音文件不完整，请重新录一遍。' },
  audio_too_long: { status: 413, retryable: false, origin: 'server', userMessage: '这段录音太长了，请分几段说。' },
  language_unsupported: { status: 400, retryable: false, origin: 'server', userMessage: '语音识别暂不支持这种语言。' },
  no_speech: { status: 422, retryable: false, origin: 'server', userMessage: '没有听清，请再说一遍。' },
  stt_failed: { status: 502, retryable: true, origin: 'server', userMessage: '语音识别失败了，请重试。' },
  stt_unavailable: { status: 503, retryable: false, origin: 'server', userMessage: '语音输入暂时不可用，请改用文字。' },
  // Server lifecycle.
  server_shutdown: { status: 503, retryable: true, origin: 'server', userMessage: '服务器正在更新，请重试。' },
  internal_error: { status: 500, retryable: true, origin: 'server', userMessage: '服务器出错了，请稍后重试。' },
  // Detected by the client itself.
  network_error: { status: 0, retryable: true, origin: 'client', userMessage: '网络连接失败，请检查网络后重试。' },
  stream_interrupted: { status: 0, retryable: true, origin: 'client', userMessage: '连接中断了，回复不完整。' },
  bad_response: { status: 0, retryable: true, origin: 'client', userMessage: '服务器返回了无法识别的内容。' },
  http_error: { status: 0, retryable: true, origin: 'client', userMessage: '服务器返回了错误。' },
  recording_failed: { status: 0, retryable: true, origin: 'client', userMessage: '录音失败了，请重试。' },
  recording_too_short: { status: 0, retryable: false, origin: 'client', userMessage: '说话时间太短了。' },
  record_permission_denied: { status: 0, retryable: false, origin: 'client', userMessage: '没有麦克风权限，请在设置中允许录音。' },
  audio_playback_failed: { status: 0, retryable: true, origin: 'client', userMessage: '语音播放失败，已跳过这一段。' },
  unsupported_platform: {
    status: 0,
    retryable: false,
    origin: 'client',
    userMessage: '当前微信版本过低，无法流式显示回复，请升级微信后重试。',
  },
} as const satisfies Record<string, ErrorCodeSpec>;

export type ErrorCode = keyof typeof ERROR_CODES;

export const ERROR_CODE_LIST = Object.keys(ERROR_CODES) as ErrorCode[];

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ERROR_CODES, value);
}

export function errorSpec(code: ErrorCode): ErrorCodeSpec {
  return ERROR_CODES[code];
}

/** The Chinese message to show a user; unknown codes (a newer server) fall back to a generic one. */
export function userMessageFor(code: string): string {
  return isErrorCode(code) ? ERROR_CODES[code].userMessage : '出了点问题，请重试。';
}
