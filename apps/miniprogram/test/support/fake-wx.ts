/**
 * A fake `wx` for the pages: login, request (with a chunked RequestTask the test drives), storage,
 * base-library info, window info, modals, action sheets, toasts, clipboard, image preview and navigation — each behaving as the
 * real API documents, including its asynchrony (callbacks never run inside the call that registered them).
 *
 * Contract: `wx.request` refuses a method WeChat does not have (PATCH) with a `fail`, as WeChat does.
 * To the login route it answers from `loginAnswers` (one per call, in order; a valid token by default,
 * which `backend` then accepts); to the conversation, feedback and share routes it answers from `backend`, an in-memory
 * server (fake-backend.ts) — immediately, or when the test calls `releaseJson()` after `holdJson()`.
 * A reply's stop routes (by message id and by request id) answer from `stopAnswers`
 * (`{"status":"stopping"}` by default) and are recorded in `stopRequests`. Every other request — the chat
 * POST, a reply's events route, a stored reply's speech route — becomes a
 * `FakeRequestTask` in `chatTasks` that stays silent until the test calls `respond`, `chunk`, `succeed`
 * or `failNetwork`. `onAppShow` / `onNetworkStatusChange` keep their listeners (removed by identity by
 * the `off*` calls, as WeChat does); `showApp()` and `changeNetwork()` fire them. Like a real phone, a task still delivers chunks
 * the test pushes after `abort()` — the page must ignore them itself. Modals and action sheets answer
 * from `modalAnswers` / `sheetAnswers` (cancel when none is queued) and are recorded with toasts and
 * navigations. `createInnerAudioContext` hands out the client core's fake player (kept in `audio`):
 * it loads and plays nothing by itself — the test fires `canplay`, `end` and `fail` — and refuses use
 * after `destroy` loudly; `setInnerAudioOption` calls are recorded in `innerAudioOptions`. `platform` is what
 * `getDeviceInfo` says (`ios` by default; `windows` / `mac` poll); `beginAudioInterruption()` /
 * `endAudioInterruption()` fire the audio interruption listeners; `succeedWhole` hands a body over whole.
 */
import { FakeVoiceInput } from './fake-recorder.ts';
import { ROUTES } from '@wxstream/protocol';
import { FakeAudioPlayers, type FakeAudioPlayer } from '@wxstream/client/testing/fake-audio-player';
import { FakeBackend } from './fake-backend.ts';

export interface WxCallbacks<T> {
  success?: (result: T) => void;
  fail?: (error: { errMsg: string }) => void;
  complete?: () => void;
}

export interface RequestOptions extends WxCallbacks<{ statusCode: number; data: unknown; header: Record<string, string> }> {
  url: string;
  method?: string;
  data?: unknown;
  header?: Record<string, string>;
  enableChunked?: boolean;
  responseType?: string;
  dataType?: string;
  timeout?: number;
}

type Listener<T> = (result: T) => void;

function later(fn: () => void): void {
  void Promise.resolve().then(fn);
}

export class FakeRequestTask {
  readonly options: RequestOptions;
  aborted = false;
  private settled = false;
  private statusCode = 0;
  private readonly headerListeners: Listener<{ statusCode: number; header: Record<string, string>; cookies: string[] }>[] = [];
  private readonly chunkListeners: Listener<{ data: ArrayBuffer }>[] = [];

  constructor(options: RequestOptions) {
    this.options = options;
  }

  onHeadersReceived(listener: Listener<{ statusCode: number; header: Record<string, string>; cookies: string[] }>): void {
    this.headerListeners.push(listener);
  }

  offHeadersReceived(listener?: Listener<{ statusCode: number; header: Record<string, string>; cookies: string[] }>): void {
    const index = listener ? this.headerListeners.indexOf(listener) : -1;
    if (index >= 0) this.headerListeners.splice(index, 1);
    else if (!listener) this.headerListeners.length = 0;
  }

  onChunkReceived(listener: Listener<{ data: ArrayBuffer }>): void {
    this.chunkListeners.push(listener);
  }

  offChunkReceived(listener?: Listener<{ data: ArrayBuffer }>): void {
    const index = listener ? this.chunkListeners.indexOf(listener) : -1;
    if (index >= 0) this.chunkListeners.splice(index, 1);
    else if (!listener) this.chunkListeners.length = 0;
  }

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.settle(() => this.options.fail?.({ errMsg: 'request:fail abort' }));
  }

  /** The response head arrives. */
  respond(statusCode: number, header: Record<string, string> = { 'Content-Type': 'text/event-stream; charset=utf-8' }): void {
    this.statusCode = statusCode;
    for (const listener of [...this.headerListeners]) listener({ statusCode, header, cookies: [] });
  }

  /** One `onChunkReceived` delivery. */
  chunk(data: ArrayBuffer): void {
    for (const listener of [...this.chunkListeners]) listener({ data });
  }

  /** The response ends normally: `success` with the status (chunked requests carry no body here). */
  succeed(): void {
    this.settle(() =>
      this.options.success?.({ statusCode: this.statusCode || 200, data: new ArrayBuffer(0), header: {} }),
    );
  }

  /**
   * The response ends with `body` handed over whole in `success` and no `onChunkReceived` at all — as
   * Windows and Mac WeChat deliver every body, and as a non-chunked request (a poll) receives one.
   */
  succeedWhole(statusCode: number, body: string, header: Record<string, string> = { 'Content-Type': 'text/event-stream; charset=utf-8' }): void {
    const bytes = Buffer.from(body, 'utf8');
    const data = new Uint8Array(bytes).buffer;
    this.settle(() => this.options.success?.({ statusCode, data, header }));
  }

  failNetwork(errMsg = 'request:fail errcode:-101 cronet_error_code:-101 error_msg:net::ERR_CONNECTION_RESET'): void {
    this.settle(() => this.options.fail?.({ errMsg }));
  }

  private settle(deliver: () => void): void {
    if (this.settled) return;
    this.settled = true;
    deliver();
    this.options.complete?.();
  }
}

export interface LoginAnswer {
  statusCode: number;
  data: unknown;
}

/** The methods `wx.request` accepts (its documentation and typings); anything else fails before sending. */
const WX_METHODS = new Set(['OPTIONS', 'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'TRACE', 'CONNECT']);

export interface ModalOptions extends WxCallbacks<{ confirm: boolean; cancel: boolean; content?: string; errMsg: string }> {
  title?: string;
  content?: string;
  editable?: boolean;
  placeholderText?: string;
  confirmText?: string;
  confirmColor?: string;
}

export interface ModalAnswer {
  confirm: boolean;
  /** What the user left in an editable modal's input. */
  content?: string;
}

export interface Navigation {
  api: 'navigateTo' | 'redirectTo' | 'reLaunch' | 'navigateBack';
  url: string;
}

type NetworkListener = (result: { isConnected: boolean; networkType: string }) => void;

/** A reply's stop route, by message id (`/api/chat/:id/stop`) or by request id (`/api/chat/requests/:id/stop`). */
const STOP_ROUTE = /^\/api\/chat\/(?:requests\/)?[^/]+\/stop$/;
/** The JSON routes the in-memory server answers: conversations, feedback on messages, shares. */
const BACKEND_ROUTES = /^\/api\/(conversations|messages|shares)(\/|$)/;
/** A stored reply spoken again: a stream, driven by the test like the chat POST. */
const SPEECH_ROUTE = /^\/api\/messages\/[^/]+\/speech$/;

export class FakeWx {
  readonly storage = new Map<string, unknown>();
  readonly appShowListeners: (() => void)[] = [];
  readonly networkListeners: NetworkListener[] = [];
  readonly stopRequests: RequestOptions[] = [];
  readonly stopAnswers: LoginAnswer[] = [];
  readonly chatTasks: FakeRequestTask[] = [];
  readonly loginRequests: RequestOptions[] = [];
  loginCalls = 0;
  loginAnswers: LoginAnswer[] = [];
  sdkVersion = '3.6.0';
  /** `wx.getDeviceInfo().platform`: `windows` / `mac` for the desktop clients, which deliver no chunks. */
  platform = 'ios';
  readonly interruptionBeginListeners: (() => void)[] = [];
  readonly interruptionEndListeners: (() => void)[] = [];
  readonly backend = new FakeBackend(() => Date.now());
  /** Conversation-route requests as wx received them (options included). */
  readonly jsonRequests: RequestOptions[] = [];
  readonly modalAnswers: ModalAnswer[] = [];
  /** Tap indexes for the next action sheets; -1 dismisses. */
  readonly sheetAnswers: number[] = [];
  readonly modals: ModalOptions[] = [];
  readonly sheets: string[][] = [];
  readonly toasts: string[] = [];
  /** Every `previewImage` call's `urls` and `current`. */
  readonly previews: { urls: string[]; current: string }[] = [];
  readonly navigations: Navigation[] = [];
  /** Every InnerAudioContext the page made. */
  readonly audio = new FakeAudioPlayers();
  readonly innerAudioOptions: Record<string, unknown>[] = [];
  /** The recorder, record permission and uploads of voice input (fake-recorder.ts). */
  readonly voiceInput = new FakeVoiceInput();
  getRecorderManager = this.voiceInput.getRecorderManager;
  getSetting = this.voiceInput.getSetting;
  authorize = this.voiceInput.authorize;
  openSetting = this.voiceInput.openSetting;
  uploadFile = this.voiceInput.uploadFile;
  private tokenSeq = 0;
  private held: (() => void)[] | undefined;
  private heldStops: (() => void)[] | undefined;

  login = (options: WxCallbacks<{ code: string; errMsg: string }>): void => {
    this.loginCalls += 1;
    const code = `code-${this.loginCalls}`;
    later(() => {
      options.success?.({ code, errMsg: 'login:ok' });
      options.complete?.();
    });
  };

  request = (options: RequestOptions): FakeRequestTask => {
    const task = new FakeRequestTask(options);
    const method = options.method ?? 'GET';
    if (!WX_METHODS.has(method)) {
      later(() => {
        options.fail?.({ errMsg: `request:fail parameter error: parameter.method should be one of ${[...WX_METHODS].join(', ')}` });
        options.complete?.();
      });
      return task;
    }
    if (BACKEND_ROUTES.test(new URL(options.url).pathname) && !SPEECH_ROUTE.test(new URL(options.url).pathname)) {
      this.jsonRequests.push(options);
      const deliver = () => {
        const outcome = this.backend.handle(method, options.url, options.header, options.data);
        if ('network' in outcome) options.fail?.({ errMsg: outcome.network });
        else options.success?.({ statusCode: outcome.statusCode, data: outcome.data, header: {} });
        options.complete?.();
      };
      if (this.held) this.held.push(deliver);
      else later(deliver);
      return task;
    }
    if (STOP_ROUTE.test(new URL(options.url).pathname)) {
      this.stopRequests.push(options);
      const answer = this.stopAnswers.shift() ?? { statusCode: 200, data: { status: 'stopping' } };
      const deliver = () => {
        options.success?.({ statusCode: answer.statusCode, data: answer.data, header: {} });
        options.complete?.();
      };
      if (this.heldStops) this.heldStops.push(deliver);
      else later(deliver);
      return task;
    }
    if (options.url.endsWith(ROUTES.login)) {
      this.loginRequests.push(options);
      const answer = this.loginAnswers.shift() ?? {
        statusCode: 200,
        data: { token: `token-${++this.tokenSeq}`, expiresIn: 3600 },
      };
      if (answer.statusCode === 200) {
        const token = (answer.data as { token?: unknown }).token;
        if (typeof token === 'string') this.backend.issueToken(token);
      }
      later(() => {
        options.success?.({ statusCode: answer.statusCode, data: answer.data, header: {} });
        options.complete?.();
      });
      return task;
    }
    this.chatTasks.push(task);
    return task;
  };

  onAppShow = (listener: () => void): void => {
    this.appShowListeners.push(listener);
  };

  offAppShow = (listener?: () => void): void => {
    removeListener(this.appShowListeners, listener);
  };

  onNetworkStatusChange = (listener: NetworkListener): void => {
    this.networkListeners.push(listener);
  };

  offNetworkStatusChange = (listener?: NetworkListener): void => {
    removeListener(this.networkListeners, listener);
  };

  /** The app comes back to the foreground. */
  showApp(): void {
    for (const listener of [...this.appShowListeners]) listener();
  }

  changeNetwork(isConnected: boolean, networkType = isConnected ? '4g' : 'none'): void {
    for (const listener of [...this.networkListeners]) listener({ isConnected, networkType });
  }

  getStorageSync = (key: string): unknown => (this.storage.has(key) ? this.storage.get(key) : '');
  setStorageSync = (key: string, value: unknown): void => {
    this.storage.set(key, JSON.parse(JSON.stringify(value)) as unknown);
  };
  removeStorageSync = (key: string): void => {
    this.storage.delete(key);
  };

  getAppBaseInfo = (): { SDKVersion: string } => ({ SDKVersion: this.sdkVersion });

  getDeviceInfo = (): { platform: string } => ({ platform: this.platform });

  onAudioInterruptionBegin = (listener: () => void): void => {
    this.interruptionBeginListeners.push(listener);
  };

  offAudioInterruptionBegin = (listener?: () => void): void => {
    removeListener(this.interruptionBeginListeners, listener);
  };

  onAudioInterruptionEnd = (listener: () => void): void => {
    this.interruptionEndListeners.push(listener);
  };

  offAudioInterruptionEnd = (listener?: () => void): void => {
    removeListener(this.interruptionEndListeners, listener);
  };

  /** A phone call or another app takes the audio session (`wx.onAudioInterruptionBegin`). */
  beginAudioInterruption(): void {
    for (const listener of [...this.interruptionBeginListeners]) listener();
  }

  /** The interruption is over (`wx.onAudioInterruptionEnd`). */
  endAudioInterruption(): void {
    for (const listener of [...this.interruptionEndListeners]) listener();
  }

  showModal = (options: ModalOptions): void => {
    this.modals.push(options);
    const answer = this.modalAnswers.shift() ?? { confirm: false };
    later(() => {
      const content = options.editable ? { content: answer.content ?? options.content ?? '' } : {};
      options.success?.({ confirm: answer.confirm, cancel: !answer.confirm, ...content, errMsg: 'showModal:ok' });
      options.complete?.();
    });
  };

  showActionSheet = (options: WxCallbacks<{ tapIndex: number; errMsg: string }> & { itemList: string[] }): void => {
    this.sheets.push(options.itemList);
    const tapIndex = this.sheetAnswers.shift() ?? -1;
    later(() => {
      if (tapIndex < 0) options.fail?.({ errMsg: 'showActionSheet:fail cancel' });
      else options.success?.({ tapIndex, errMsg: 'showActionSheet:ok' });
      options.complete?.();
    });
  };

  showToast = (options: { title: string }): void => {
    this.toasts.push(options.title);
  };

  /** What the page put on the clipboard, in order. */
  readonly clipboard: string[] = [];

  setClipboardData = (options: WxCallbacks<{ errMsg: string }> & { data: string }): void => {
    this.clipboard.push(options.data);
    later(() => {
      options.success?.({ errMsg: 'setClipboardData:ok' });
      options.complete?.();
    });
  };

  /** Menus the page switched on with `showShareMenu`. */
  readonly shareMenus: string[][] = [];

  showShareMenu = (options: { menus?: string[] }): void => {
    this.shareMenus.push(options.menus ?? []);
  };

  previewImage = (options: { urls: string[]; current?: string }): void => {
    this.previews.push({ urls: [...options.urls], current: options.current ?? options.urls[0] ?? '' });
  };

  navigateTo = (options: { url: string }): void => {
    this.navigations.push({ api: 'navigateTo', url: options.url });
  };

  redirectTo = (options: { url: string }): void => {
    this.navigations.push({ api: 'redirectTo', url: options.url });
  };

  reLaunch = (options: { url: string }): void => {
    this.navigations.push({ api: 'reLaunch', url: options.url });
  };

  /** Stop answers wait until `releaseStops()` (a server still ending the stopped reply). */
  holdStops(): void {
    this.heldStops ??= [];
  }

  releaseStops(): void {
    const held = this.heldStops ?? [];
    this.heldStops = undefined;
    for (const deliver of held) deliver();
  }

  /** Conversation-route answers wait until `releaseJson()` (to look at the page in between). */
  holdJson(): void {
    this.held ??= [];
  }

  /** Delivers the held answers, in order, and stops holding. */
  releaseJson(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const deliver of held) deliver();
  }

  createInnerAudioContext = (): FakeAudioPlayer => this.audio.create();

  setInnerAudioOption = (options: WxCallbacks<{ errMsg: string }> & Record<string, unknown>): void => {
    const { success, fail: _fail, complete, ...settings } = options;
    this.innerAudioOptions.push(settings);
    later(() => {
      success?.({ errMsg: 'setInnerAudioOption:ok' });
      complete?.();
    });
  };

  getWindowInfo = (): { windowWidth: number; windowHeight: number; pixelRatio: number } => ({
    windowWidth: 390,
    windowHeight: 760,
    pixelRatio: 3,
  });

  /** The last chat request task (the one the page is streaming into). */
  lastTask(): FakeRequestTask {
    const task = this.chatTasks[this.chatTasks.length - 1];
    if (!task) throw new Error('the page has not sent a chat request');
    return task;
  }
}

/** WeChat's `off*`: the given listener (by identity), or every listener when none is given. */
function removeListener<T>(listeners: T[], listener: T | undefined): void {
  if (listener === undefined) {
    listeners.length = 0;
    return;
  }
  const index = listeners.indexOf(listener);
  if (index >= 0) listeners.splice(index, 1);
}
