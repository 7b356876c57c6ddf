/**
 * Renders a real page of the mini-program in miniprogram-simulate — compiled by WeChat's official WXML
 * compiler (the `wcc` binary of miniprogram-compiler) from the built mini-program root — against a fake
 * `wx` and fake timers, and records every `setData` the page makes.
 *
 * Contract: the constructor installs the DOM, the fake timers (the pages' platform adapter calls the
 * global timers, so they run on simulated time) and the fake `wx` (a new one, or the one passed in, so
 * a test can carry storage and the fake server from one page to the next), runs `beforeLoad`, then
 * loads, renders and attaches the page. Template events are dispatched the way j-component does (asynchronously); every
 * helper that interacts awaits until that work and its promise chains have run. `close()` detaches the
 * page and restores the real timers; one page is open at a time.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { setImmediate as nextMacrotask } from 'node:timers/promises';
import { installDom } from './dom-environment.ts';
import { FakeTimers } from './fake-timers.ts';
import { FakeWx } from './fake-wx.ts';
import { miniprogramRoot } from './paths.ts';

export interface TouchPoint {
  x: number;
  y: number;
}

/** The parts of a j-component node the tests use. */
export interface SimNode {
  readonly dom: HTMLElement;
  readonly data: Record<string, unknown>;
  readonly instance: { setData(data: Record<string, unknown>, callback?: () => void): void } & Record<string, unknown>;
  querySelector(selector: string): SimNode | undefined;
  querySelectorAll(selector: string): SimNode[];
  /** `touches` / `changedTouches` (points in px) make it a native touch event, as j-component builds them. */
  dispatchEvent(name: string, options?: { detail?: unknown; touches?: TouchPoint[]; changedTouches?: TouchPoint[] }): void;
  triggerPageLifeTime(name: string, ...args: unknown[]): void;
  toJSON(): { attrs: { name: string; value: unknown }[] };
}

interface SimRoot extends SimNode {
  attach(parent: HTMLElement): void;
  detach(): void;
}

interface Simulate {
  load(path: string, tagName: string, options: { compiler: 'official'; rootPath: string }): string;
  render(id: string, properties?: Record<string, unknown>): SimRoot;
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

/** Jest's module-scoped `jest` object; absent where plain Node runs this (the benchmark, the screenshot). */
declare const jest: { isolateModules(run: () => void): void } | undefined;

/**
 * Each page is loaded (compiled, its script run) once per test file and rendered afresh for every test,
 * as miniprogram-simulate's documentation does it: jest keeps a module once required — its
 * `require.cache` cannot be deleted from — so a second `simulate.load` would not run the page's
 * `Component()` again. For the same reason a page's load runs in its own module registry
 * (`jest.isolateModules`): two pages using the same component (markdown-block on the chat and share
 * pages) each run that component's script, as WeChat does per page. Nothing a page keeps at module level
 * outlives a render (per-instance WeakMaps).
 */
const loadedPages = new Map<string, string>();
function loadedPage(sim: Simulate, page: string): string {
  let id = loadedPages.get(page);
  if (id === undefined) {
    const name = page.split('/').pop() ?? 'page';
    const tagName = page.startsWith('pages/') ? `${name}-page` : name;
    let loaded = '';
    const run = (): void => {
      loaded = sim.load(join(miniprogramRoot, page), tagName, { compiler: 'official', rootPath: miniprogramRoot });
    };
    if (typeof jest !== 'undefined' && jest) jest.isolateModules(run);
    else run();
    id = loaded;
    loadedPages.set(page, id);
  }
  return id;
}

/**
 * Lets queued microtasks, promise chains and j-component's deferred event dispatch run. Node's own
 * setImmediate, imported: jest's jsdom environment has no global one, and the fake timers leave it alone.
 */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await nextMacrotask();
}

export interface SimPageOptions {
  sdkVersion?: string;
  /** The fake `wx` to use (storage, fake server and records carry over); a new one by default. */
  wx?: FakeWx;
  /** Runs on simulated time before the page is created — to seed the fake server a page loads from at once. */
  beforeLoad?: (wx: FakeWx) => void;
  /** A component's properties, as its parent's template would pass them (pages have none). */
  properties?: Record<string, unknown>;
}

export class SimPage {
  readonly wx: FakeWx;
  readonly timers = new FakeTimers();
  readonly calls: SetDataCall[] = [];
  readonly root: SimRoot;
  private attached = false;

  /**
   * `page` is the page path inside the mini-program root, e.g. `pages/chat/chat` — or a component's,
   * e.g. `components/action-bar/action-bar`, rendered on its own with `options.properties`.
   */
  constructor(page: string, options: SimPageOptions = {}) {
    const sim = loadSimulate();
    this.wx = options.wx ?? new FakeWx();
    if (options.sdkVersion !== undefined) this.wx.sdkVersion = options.sdkVersion;
    this.timers.install();
    (globalThis as unknown as { wx: FakeWx }).wx = this.wx;
    options.beforeLoad?.(this.wx);
    this.root = sim.render(loadedPage(sim, page), options.properties);
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

  /** WeChat calls a page's `onLoad` with its query after creating it; simulate leaves that to the test. */
  async load(query: Record<string, string>): Promise<void> {
    const onLoad = this.root.instance.onLoad;
    if (typeof onLoad !== 'function') throw new Error('the page has no onLoad');
    (onLoad as (query: Record<string, string>) => void).call(this.root.instance, query);
    await settle();
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

  async tap(selector: string): Promise<void> {
    await this.dispatch(selector, 'tap');
  }

  async dispatch(selector: string, event: string, detail?: unknown): Promise<void> {
    const node = this.find(selector);
    if (!node) throw new Error(`no element matches ${selector}`);
    node.dispatchEvent(event, detail === undefined ? undefined : { detail });
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
