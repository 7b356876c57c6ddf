/**
 * The DOM that miniprogram-simulate renders into. It is written for jest's jsdom environment, so here
 * the same globals are taken from one jsdom window: `window` and `document` (the render tree and the
 * compiled WXML's `window.__webview_engine_version__`), and jsdom's own `Event`, `CustomEvent` and
 * `TouchEvent` — j-component dispatches events on jsdom nodes, which reject Node's built-in event classes.
 *
 * Under jest (`testEnvironment: 'jsdom'`) the environment already provides these globals, and
 * `installDom()` leaves them alone; the benchmark and the screenshot script run on plain Node and use it.
 *
 * Contract: `installDom()` is idempotent and must run before miniprogram-simulate is first required.
 */
import { createRequire } from 'node:module';

interface JsdomModule {
  JSDOM: new (html: string, options: { pretendToBeVisual: boolean; url: string }) => { window: Window & typeof globalThis };
}

const require = createRequire(import.meta.url);
const GLOBALS = ['window', 'document', 'Event', 'CustomEvent', 'TouchEvent', 'Element', 'Node', 'HTMLElement'] as const;

let installed = false;

export function installDom(): void {
  if (installed || typeof globalThis.document !== 'undefined') return;
  const { JSDOM } = require('jsdom') as JsdomModule;
  const { window } = new JSDOM('<!doctype html><html><body></body></html>', { pretendToBeVisual: true, url: 'https://wxstream.test/' });
  const target = globalThis as unknown as Record<string, unknown>;
  const source = window as unknown as Record<string, unknown>;
  for (const name of GLOBALS) {
    target[name] = name === 'window' ? window : source[name];
  }
  installed = true;
}
