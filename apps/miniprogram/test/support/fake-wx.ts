/**
 * A fake `wx` for the chat page: login, request (with a chunked RequestTask the test drives), storage,
 * base-library info and window info — each behaving as the real API documents, including its
 * asynchrony (callbacks never run inside the call that registered them).
 *
 * Contract: `wx.request` to the login route answers from `loginAnswer` (one per call, in order; a
 * valid token by default); every other request becomes a `FakeRequestTask` in `chatTasks` that stays
 * silent until the test calls `respond`, `chunk`, `succeed` or `failNetwork`. Like a real phone, a task
 * still delivers chunks the test pushes after `abort()` — the page must ignore them itself.
 */
import { ROUTES } from '@wxstream/protocol';

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

export class FakeWx {
  readonly storage = new Map<string, unknown>();
  readonly chatTasks: FakeRequestTask[] = [];
  readonly loginRequests: RequestOptions[] = [];
  loginCalls = 0;
  loginAnswers: LoginAnswer[] = [];
  sdkVersion = '3.6.0';
  private tokenSeq = 0;

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
    if (options.url.endsWith(ROUTES.login)) {
      this.loginRequests.push(options);
      const answer = this.loginAnswers.shift() ?? {
        statusCode: 200,
        data: { token: `token-${++this.tokenSeq}`, expiresIn: 3600 },
      };
      later(() => {
        options.success?.({ statusCode: answer.statusCode, data: answer.data, header: {} });
        options.complete?.();
      });
      return task;
    }
    this.chatTasks.push(task);
    return task;
  };

  getStorageSync = (key: string): unknown => (this.storage.has(key) ? this.storage.get(key) : '');
  setStorageSync = (key: string, value: unknown): void => {
    this.storage.set(key, JSON.parse(JSON.stringify(value)) as unknown);
  };
  removeStorageSync = (key: string): void => {
    this.storage.delete(key);
  };

  getAppBaseInfo = (): { SDKVersion: string } => ({ SDKVersion: this.sdkVersion });

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
