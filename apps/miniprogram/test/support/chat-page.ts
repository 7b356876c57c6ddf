/**
 * Renders the real chat page in miniprogram-simulate — compiled by WeChat's official WXML compiler
 * (the `wcc` binary of miniprogram-compiler) from the built mini-program root — against a fake `wx`
 * and fake timers, and records every `setData` the page makes.
 *
 * Contract: `openChatPage()` installs the DOM, the fake timers (the page's platform adapter calls the
 * global timers, so it runs on simulated time) and the fake `wx`, then loads, renders and attaches the
 * page. Template events are dispatched the way j-component does (asynchronously); every helper that
 * interacts awaits until that work and its promise chains have run. `close()` detaches the page and
 * restores the real timers.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { installDom } from './dom-environment.ts';
import { FakeTimers } from './fake-timers.ts';
import { FakeWx, type FakeRequestTask } from './fake-wx.ts';
import './miniprogram-require.ts';
import { miniprogramRoot } from './paths.ts';

/** The parts of a j-component node the tests use. */
export interface SimNode {
  readonly dom: HTMLElement;
  readonly data: Record<string, unknown>;
  readonly instance: { setData(data: Record<string, unknown>, callback?: () => void): void };
  querySelector(selector: string): SimNode | undefined;
  querySelectorAll(selector: string): SimNode[];
  dispatchEvent(name: string, options?: { detail?: unknown }): void;
  triggerPageLifeTime(name: string, ...args: unknown[]): void;
  toJSON(): { attrs: { name: string; value: unknown }[] };
}

interface SimRoot extends SimNode {
  attach(parent: HTMLElement): void;
  detach(): void;
}

interface Simulate {
  load(path: string, tagName: string, options: { compiler: 'official'; rootPath: string }): string;
  render(id: string): SimRoot;
}

export interface SetDataCall {
  /** Simulated time of the call. */
  at: number;
  data: Record<string, unknown>;
  /** UTF-8 bytes of the JSON the bridge would carry. */
  bytes: number;
  /** Keys whose value equals what the view already held: bytes sent for nothing. */
  unchanged: string[];
}

/** Reads a setData path (`messages[3].blocks[0].text`) from page data; undefined where it does not exist. */
export function readPath(data: unknown, path: string): unknown {
  let value: unknown = data;
  for (const part of path.match(/[^.[\]]+/g) ?? []) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

const require = createRequire(import.meta.url);

let simulate: Simulate | undefined;
function loadSimulate(): Simulate {
  installDom();
  simulate ??= require('miniprogram-simulate') as Simulate;
  return simulate;
}

/** Lets queued microtasks, promise chains and j-component's deferred event dispatch run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

export interface ChatPageOptions {
  sdkVersion?: string;
}

export class ChatPage {
  readonly wx = new FakeWx();
  readonly timers = new FakeTimers();
  readonly calls: SetDataCall[] = [];
  readonly root: SimRoot;
  private attached = false;

  constructor(options: ChatPageOptions = {}) {
    const sim = loadSimulate();
    if (options.sdkVersion !== undefined) this.wx.sdkVersion = options.sdkVersion;
    this.timers.install();
    (globalThis as unknown as { wx: FakeWx }).wx = this.wx;
    const id = sim.load(join(miniprogramRoot, 'pages/chat/chat'), 'chat-page', { compiler: 'official', rootPath: miniprogramRoot });
    this.root = sim.render(id);
    const instance = this.root.instance;
    const setData = instance.setData.bind(instance);
    instance.setData = (data, callback) => {
      const before = this.root.data;
      const unchanged = Object.keys(data).filter((key) => JSON.stringify(readPath(before, key)) === JSON.stringify(data[key]));
      this.calls.push({ at: this.timers.now(), data, bytes: Buffer.byteLength(JSON.stringify(data)), unchanged });
      setData(data, callback);
    };
    const parent = document.createElement('div');
    document.body.appendChild(parent);
    this.root.attach(parent);
    this.attached = true;
  }

  get data(): Record<string, unknown> {
    return this.root.data;
  }

  find(selector: string): SimNode | undefined {
    return this.root.querySelector(selector);
  }

  findAll(selector: string): SimNode[] {
    return this.root.querySelectorAll(selector);
  }

  exists(selector: string): boolean {
    return this.find(selector) !== undefined;
  }

  text(selector: string): string {
    return this.find(selector)?.dom.textContent ?? '';
  }

  /** A template attribute of a built-in component (e.g. a button's `disabled`), as rendered. */
  attr(selector: string, name: string): unknown {
    const node = this.find(selector);
    if (!node) throw new Error(`no element matches ${selector}`);
    return node.toJSON().attrs.find((a) => a.name === name)?.value;
  }

  /** The text shown as the answer of the last reply (without its reasoning panel and status line). */
  replyText(): string {
    const answers = this.findAll('.answer');
    return answers[answers.length - 1]?.dom.textContent ?? '';
  }

  statusText(): string {
    const lines = this.findAll('.status');
    return lines[lines.length - 1]?.dom.textContent?.replace(/\s+/g, ' ').trim() ?? '';
  }

  async tap(selector: string): Promise<void> {
    const node = this.find(selector);
    if (!node) throw new Error(`no element matches ${selector}`);
    node.dispatchEvent('tap');
    await settle();
  }

  async type(text: string): Promise<void> {
    const input = this.find('.input');
    if (!input) throw new Error('the composer has no input');
    input.dispatchEvent('input', { detail: { value: text, cursor: text.length, keyCode: 0 } });
    await settle();
  }

  /** Types `text` and taps 发送; resolves once the chat request has been made (or refused). */
  async send(text: string): Promise<void> {
    await this.type(text);
    await this.tap('.send');
  }

  async scrollList(scrollTop: number, scrollHeight: number): Promise<void> {
    const list = this.find('.list');
    if (!list) throw new Error('no message list');
    list.dispatchEvent('scroll', { detail: { scrollTop, scrollHeight, scrollLeft: 0, scrollWidth: 390, deltaX: 0, deltaY: 0 } });
    await settle();
  }

  /** Delivers `chunks` one per `intervalMs` of simulated time. */
  async feed(task: FakeRequestTask, chunks: readonly ArrayBuffer[], intervalMs = 40): Promise<void> {
    for (const chunk of chunks) {
      task.chunk(chunk);
      this.timers.tick(intervalMs);
    }
    await settle();
  }

  /** Runs simulated time forward in frame-sized steps. */
  async advance(ms: number, step = 10): Promise<void> {
    for (let elapsed = 0; elapsed < ms; elapsed += step) this.timers.tick(Math.min(step, ms - elapsed));
    await settle();
  }

  hide(): void {
    this.root.triggerPageLifeTime('hide');
  }

  show(): void {
    this.root.triggerPageLifeTime('show');
  }

  detach(): void {
    if (!this.attached) return;
    this.attached = false;
    this.root.detach();
  }

  close(): void {
    this.detach();
    this.timers.uninstall();
  }
}
