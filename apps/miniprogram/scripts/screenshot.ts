/**
 * Takes the pictures of the chat page for the README (`docs/images/*.png`) from a real render.
 *
 * How: the chat page is rendered exactly as the page tests render it (test/support: miniprogram-simulate,
 * the template compiled by WeChat's official WXML compiler, jsdom, a fake `wx`, simulated timers). One
 * question is sent, and the reply arrives as real SSE bytes — events framed by the protocol's
 * `formatSseEvent`, cut at arbitrary byte offsets — through the fake RequestTask, while simulated time
 * runs, until part of the answer has been typed out. The rendered DOM and the page's own WXSS (app.wxss +
 * chat.wxss, rpx converted the way WeChat converts it) are then written into one standalone HTML file,
 * which headless Chromium photographs at phone size.
 *
 * What is not the page: the navigation bar (WeChat draws it natively, outside the page's webview; here a
 * look-alike with the title from chat.json / app.json) and the base styles of the built-in components
 * (COMPONENT_BASE_CSS below, with why). Nothing else is added, so what the WXSS gets wrong shows.
 *
 * Scenes: `stream` (a reply being typed out: docs/images/chat-page.png) and `actions` (finished replies
 * with their action bar — a turn with two versions, a 👍 — and follow-up chips under the last reply:
 * docs/images/chat-actions-<theme>.png). Themes: `light`, and `dark` — WeChat's dark mode as the page
 * gets it: the `prefers-color-scheme: dark` block of app.wxss applies, and the navigation bar takes its
 * colours from theme.json's dark entries. Component styles are kept scoped to their component, as
 * WeChat's style isolation keeps them. Without options every scene is taken in both themes.
 *
 * Run by hand, never from `pnpm test`: `pnpm --filter @wxstream/miniprogram screenshot`
 * Options: `--scene stream|actions`, `--theme light|dark` (with both, `--out <png>` names the file),
 * `--html <file>` (keep the HTML), `--width`, `--height` (CSS px, default 375×720), `--scale` (device
 * pixel ratio, default 2).
 * Needs Chromium with CJK and emoji fonts (Debian: `apt-get install chromium fonts-noto-cjk
 * fonts-noto-color-emoji`); `CHROMIUM=/path/to/chrome` picks another binary.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { ChatPage } from '../test/support/chat-page.ts';
// Plain Node (not jest) must be told the generated .js files are CommonJS before simulate requires them.
import '../test/support/miniprogram-require.ts';
import { appDir, miniprogramRoot } from '../test/support/paths.ts';
import { storedMessage } from '../test/support/fake-backend.ts';
import { byteChunks, replyEvents, sseText, utf8 } from '../test/support/sse-stream.ts';

// ---------------------------------------------------------------------------------------------------
// The conversation in the picture.

const QUESTION = '小程序里怎么做流式输出？';

const REASONING = '用户想在微信小程序里边收边显示 AI 的回复。先说 enableChunked，再讲分片解码和 setData 的节奏，最后给一段最小示例。';

const ANSWER = [
  '可以的 👌 用 `wx.request` 打开 **enableChunked**，就能一边接收一边显示：',
  '',
  '1. 服务端按 SSE 格式逐段写出；',
  '2. `onChunkReceived` 里按**字节流**解码；',
  '3. `setData` 按节奏合并刷新。',
  '',
  '```js',
  'const task = wx.request({ url, enableChunked: true });',
  'task.onChunkReceived(({ data }) => decoder.push(data));',
  '```',
  '',
  '| 做法 | 每帧 setData |',
  '| --- | --- |',
  '| 整棵树重发 | 随回复变长 |',
  '| 只发正在写的块 | 大小固定 |',
  '',
  '这样回复会一个字一个字地出现，点「停止」可以随时中断，已经生成的内容也会保留。',
].join('\n');

/** The picture is taken once the typed-out answer reaches this far: past the code, mid-sentence. */
const SHOW_UNTIL = '这样回复会一个字一个字地出现';

/** The prefix of the page's classes: miniprogram-simulate scopes a page's classes by its tag name. */
const SCOPE_PREFIX = 'chat-page--';

type Theme = 'light' | 'dark';
type Scene = 'stream' | 'actions';

// ---------------------------------------------------------------------------------------------------
// Rendering the page mid-reply.

interface RenderedPage {
  /** The page's root element (`<chat-page>`), as rendered into jsdom. */
  root: HTMLElement;
  /** The id the page's scroll-view is told to scroll into view. */
  scrollAnchor: string;
  close(): void;
}

// The conversation of the `actions` scene: a first turn regenerated once (so ‹ 2/2 ›) and rated 👍,
// then a question streamed on this visit whose reply ends with follow-up suggestions.
const ACTIONS_FIRST_QUESTION = '小程序里怎么做流式输出？';
const ACTIONS_FIRST_ANSWER = '用 `wx.request` 打开 **enableChunked**，在 `onChunkReceived` 里按字节流解码，再按帧合并 setData。';
const ACTIONS_QUESTION = '为什么要按帧合并？';
const ACTIONS_ANSWER = [
  '每次 setData 都要跨线程传输，调用太密会卡顿：',
  '',
  '1. 逻辑层和视图层分开运行；',
  '2. 每帧最多更新一次就够流畅；',
  '3. 只发送变化的段落。',
].join('\n');
const ACTIONS_SUGGESTIONS = ['一帧多长时间合适？', '怎么只发送变化的段落？'];

async function renderActions(): Promise<RenderedPage> {
  const page = new ChatPage({
    beforeLoad: (wx) => {
      wx.backend.addConversation({
        id: 'c-1',
        title: '流式输出',
        messages: [storedMessage({ id: 'q-1', role: 'user', text: ACTIONS_FIRST_QUESTION }), storedMessage({ id: 'a-1', role: 'assistant', text: '先打开 enableChunked。' })],
      });
      const reply = { ...storedMessage({ id: 'a-2', role: 'assistant', text: ACTIONS_FIRST_ANSWER }), feedback: { rating: 'up' as const, updatedAt: '2025-01-01T00:00:00.000Z' } };
      wx.backend.addVersion('c-1', storedMessage({ id: 'q-1', role: 'user', text: ACTIONS_FIRST_QUESTION }), reply);
    },
  });
  try {
    await page.load({ conversationId: 'c-1' });
    await page.send(ACTIONS_QUESTION);
    const task = page.wx.lastTask();
    task.respond(200);
    const events = replyEvents({ text: ACTIONS_ANSWER, conversationId: 'c-1', messageId: 'a-3', suggestions: ACTIONS_SUGGESTIONS });
    await page.feed(task, byteChunks(utf8(sseText(events))));
    task.succeed();
    await page.advance(3000);
    const problems: string[] = [];
    if (page.findAll('.reply-actions').length !== 2) problems.push('not two action bars');
    if (!page.text('.reply-actions').includes('2/2')) problems.push('no version switcher 2/2 on the first turn');
    if (page.findAll('.suggestions').length !== 1) problems.push('no follow-up chips');
    // The reply shows as Markdown (no list numbers in its text): done streaming, and its last words shown.
    const lastWords = ACTIONS_ANSWER.slice(ACTIONS_ANSWER.lastIndexOf('\n') + 1).replace(/^\d+\.\s*/, '');
    if (page.exists('.stop') || !page.replyText().endsWith(lastWords)) problems.push('the last reply is not typed out');
    if (problems.length > 0) throw new Error(`the rendered page is not the intended picture:\n- ${problems.join('\n- ')}`);
    return { root: page.root.dom, scrollAnchor: String(page.data.scrollAnchor ?? ''), close: () => page.close() };
  } catch (error) {
    page.close();
    throw error;
  }
}

async function renderMidReply(): Promise<RenderedPage> {
  const page = new ChatPage();
  try {
    await page.send(QUESTION);
    const task = page.wx.lastTask();
    task.respond(200);
    const chunks = byteChunks(utf8(sseText(replyEvents({ text: ANSWER, reasoning: REASONING, deltas: 60 }), { heartbeatEvery: 7 })));
    // One chunk per 40 ms of simulated time until the typed-out answer reaches SHOW_UNTIL; once every
    // byte is in, only time moves (the typewriter catching up). Bounded, so a changed page fails loudly.
    let delivered = 0;
    for (let step = 0; !page.replyText().includes(SHOW_UNTIL); step++) {
      if (step >= chunks.length + 200) throw new Error(`the answer never showed ${JSON.stringify(SHOW_UNTIL)}; shown: ${JSON.stringify(page.replyText())}`);
      const chunk = chunks[delivered];
      if (chunk) {
        task.chunk(chunk);
        delivered += 1;
      }
      await page.advance(40);
    }
    if (delivered >= chunks.length) throw new Error('the whole reply arrived before the picture: it must be mid-stream');
    assertPicture(page);
    return { root: page.root.dom, scrollAnchor: String(page.data.scrollAnchor ?? ''), close: () => page.close() };
  } catch (error) {
    page.close();
    throw error;
  }
}

/** What the README says the picture shows must be what the page shows. */
function assertPicture(page: ChatPage): void {
  const problems: string[] = [];
  const answer = page.replyText();
  const lastLine = ANSWER.slice(ANSWER.lastIndexOf('\n') + 1);
  if (answer.includes(lastLine)) problems.push(`the answer is typed out completely: ${JSON.stringify(answer)}`);
  if (!page.exists('.stop')) problems.push('no stop button: the page is not streaming');
  if (!page.text('.reasoning-toggle').includes('思考过程')) problems.push('no reasoning panel');
  if (page.exists('.reasoning-body')) problems.push('the reasoning panel is open');
  if (!page.exists('.answer >>> .code-lang')) problems.push('no code block');
  if (!page.exists('.answer >>> .md-strong')) problems.push('no Markdown emphasis rendered');
  if (!page.exists('.answer >>> .md-table')) problems.push('no table');
  if (page.findAll('.bubble').length !== 2) problems.push('not exactly one question and one reply');
  if (problems.length > 0) throw new Error(`the rendered page is not the intended picture:\n- ${problems.join('\n- ')}`);
}

// ---------------------------------------------------------------------------------------------------
// Serialising the rendered DOM.

/** The template attributes of an element, kept by j-component on the exparser node behind each DOM node. */
interface ExparserBacked {
  __wxElement?: { _vt?: { attrs?: { name: string; value: unknown }[] } };
}

function templateAttrs(element: Element): Map<string, unknown> {
  const attrs = (element as unknown as ExparserBacked).__wxElement?._vt?.attrs ?? [];
  return new Map(attrs.map((attr) => [attr.name, attr.value]));
}

function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function escapeAttr(text: string): string {
  return escapeText(text).replace(/"/g, '&quot;');
}

/**
 * One element as HTML. Classes are the DOM's, unscoped (so the WXSS applies as written); component
 * attributes the DOM does not carry (id, disabled, type, size, placeholder, scroll-y…) come from the
 * template, so the base styles can select on them as WeChat's do. The page root becomes `<page>`, the
 * element WXSS's `page` selector means.
 */
function elementHtml(element: Element): string {
  const tag = element.tagName.toLowerCase() === 'chat-page' ? 'page' : element.tagName.toLowerCase();
  // An attribute's value; `true` for a boolean attribute written without one.
  const attributes = new Map<string, string | true>();
  // Page classes lose their scope (the page's WXSS is written unscoped); component classes keep theirs,
  // and the components' WXSS is scoped to match (componentCss), as WeChat's style isolation does.
  const classes = Array.from(element.classList).map((c) => (c.startsWith(SCOPE_PREFIX) ? c.slice(SCOPE_PREFIX.length) : c));
  if (classes.length > 0) attributes.set('class', classes.join(' '));
  for (const { name, value } of Array.from(element.attributes)) {
    if (name !== 'class') attributes.set(name, value);
  }
  const template = templateAttrs(element);
  for (const [name, value] of template) {
    const attr = kebab(name);
    if (attr === 'class' || attributes.has(attr)) continue;
    if (value === true) attributes.set(attr, true);
    else if (typeof value === 'string' || typeof value === 'number') attributes.set(attr, String(value));
  }
  const open = [tag, ...[...attributes].map(([name, value]) => (value === true ? name : `${name}="${escapeAttr(value)}"`))].join(' ');
  let inner = Array.from(element.childNodes).map(nodeHtml).join('');
  if ((tag === 'wx-textarea' || tag === 'wx-input') && inner === '') {
    // WeChat draws a field's value, or its placeholder when empty, inside the component.
    const value = template.get('value');
    const placeholder = template.get('placeholder');
    if (typeof value === 'string' && value !== '') inner = `<div class="wx-field-value">${escapeText(value)}</div>`;
    else if (typeof placeholder === 'string') inner = `<div class="wx-field-placeholder">${escapeText(placeholder)}</div>`;
  }
  return `<${open}>${inner}</${tag}>`;
}

function nodeHtml(node: Node): string {
  if (node.nodeType === node.TEXT_NODE) return escapeText(node.textContent ?? '');
  if (node.nodeType === node.ELEMENT_NODE) return elementHtml(node as Element);
  return '';
}

// ---------------------------------------------------------------------------------------------------
// WXSS → CSS.

/**
 * rpx → px as WeChat's renderer does it (`transformRpx` in the base library): scale by the window width
 * over 750, round down (with a small epsilon), and never let a non-zero length vanish — a result below
 * one pixel becomes 1px (0.5px only on high-DPR iOS). So `1rpx` borders stay visible on a 375px screen.
 */
function rpxToPx(rpx: number, windowWidth: number): number {
  if (rpx === 0) return 0;
  const px = Math.floor((rpx * windowWidth) / 750 + 1e-4);
  return px === 0 ? (rpx > 0 ? 1 : -1) : px;
}

function wxssToCss(wxss: string, windowWidth: number): string {
  return wxss.replace(/(-?(?:\d+\.?\d*|\.\d+))rpx\b/g, (_, n: string) => `${rpxToPx(Number(n), windowWidth)}px`);
}

/** A WXSS file with its relative `@import`s inlined, as WeChat's build does. */
function readWxss(path: string): string {
  return readFileSync(path, 'utf8').replace(/@import\s+["']([^"']+)["'];?/g, (_, file: string) => readWxss(join(dirname(path), file)));
}

/**
 * The palette as the theme sets it: in the dark theme WeChat applies the `prefers-color-scheme: dark`
 * block; here it is made unconditional, so the picture does not depend on Chromium's own setting.
 */
function themedCss(css: string, theme: Theme): string {
  const query = '@media (prefers-color-scheme: dark)';
  return theme === 'dark' ? css.replace(query, '@media all') : css.replace(query, '@media not all');
}

/**
 * A component's WXSS with every class selector scoped as simulate scopes the component's classes, and
 * `:host` as the component's own element.
 */
function componentCss(wxss: string, tag: string): string {
  return wxss.replace(/:host\b/g, tag).replace(/(^|[\s,{}>+~(])\.([A-Za-z_][\w-]*)/g, (_, before: string, name: string) => `${before}.${tag}--${name}`);
}

/** The components the chat page uses, directly or inside another component: tag → path from the root. */
function usedComponents(): Map<string, string> {
  const found = new Map<string, string>();
  const visit = (from: string): void => {
    const used = readJson<{ usingComponents?: Record<string, string> }>(join(miniprogramRoot, `${from}.json`)).usingComponents ?? {};
    for (const [tag, ref] of Object.entries(used)) {
      const path = ref.startsWith('/') ? ref.slice(1) : join(dirname(from), ref);
      if (found.has(tag)) continue;
      found.set(tag, path);
      visit(path);
    }
  };
  visit('pages/chat/chat');
  return found;
}

/** The WXSS of the components the chat page uses, each scoped to its tag. */
function componentsCss(windowWidth: number): string {
  return [...usedComponents()]
    .map(([tag, path]) => `/* ${path}.wxss */\n${componentCss(wxssToCss(readWxss(join(miniprogramRoot, `${path}.wxss`)), windowWidth), tag)}`)
    .join('\n');
}

// ---------------------------------------------------------------------------------------------------
// The stand-ins for what WeChat itself provides.

/**
 * Base styles of the built-in components. WeChat's renderer ships a stylesheet that gives `wx-view`,
 * `wx-button`, `wx-textarea`… their default look; miniprogram-simulate renders the same elements as
 * unknown custom elements with no user-agent styles at all (every one `display: inline`, buttons without
 * padding or colour, a textarea without a box or placeholder). These rules stand in for that stylesheet,
 * as little of it as this page uses. Values follow the base library's published rules (buttons as in
 * style v2, which app.json selects: WeUI 2 sizes and colours; the disabled colours are approximate).
 * They come first, so the page's WXSS overrides them exactly as it overrides the real ones — including
 * where the real ones win: `wx-button:not([size=mini])` outranks a single class, which is why the page's
 * button rules carry `!important`. The field placeholder is drawn the way WeChat draws it, as text
 * inside the component, since simulate renders an empty element.
 */
const COMPONENT_BASE_CSS = `
html, body { margin: 0; height: 100%; }
* { margin: 0; }
page { display: block; }
wx-view { display: block; }
wx-view[hidden], wx-text[hidden], wx-button[hidden] { display: none !important; }
wx-text { display: inline; } /* line breaks: the components' own rules set pre-wrap / pre themselves */
wx-scroll-view { display: block; width: 100%; position: relative; overflow: hidden; }
wx-scroll-view[scroll-y] { overflow-y: auto; }
wx-scroll-view[scroll-x] { overflow-x: auto; }
wx-scroll-view::-webkit-scrollbar { display: none; }
wx-button {
  position: relative; display: block; box-sizing: border-box; margin-left: auto; margin-right: auto;
  padding: 8px 24px; border-radius: 4px; overflow: hidden; text-align: center; text-decoration: none;
  font-size: 17px; font-weight: 700; line-height: 1.41176471; color: #06ae56; background-color: #f2f2f2;
}
wx-button:not([size=mini]) { width: 184px; }
wx-button[type=primary] { color: #fff; background-color: #07c160; }
wx-button[size=mini] { display: inline-block; width: auto; padding: 0 .75em; font-size: 16px; line-height: 2; }
wx-button[disabled] { color: rgba(0, 0, 0, .18); background-color: rgba(0, 0, 0, .05); }
wx-textarea { display: block; position: relative; width: 300px; height: 150px; cursor: auto; white-space: pre-wrap; word-break: break-all; }
wx-textarea[auto-height] { height: auto; }
wx-input { display: block; height: 1.4em; min-height: 1.4em; overflow: hidden; white-space: nowrap; }
.wx-field-placeholder { color: #808080; }
wx-image { display: inline-block; width: 320px; height: 240px; overflow: hidden; }
`;

/**
 * With `"darkmode": true` WeChat draws its built-in components in WeUI's dark colours (the values of
 * WeUI 2's dark variables; approximate like the light ones above).
 */
const DARK_COMPONENT_BASE_CSS = `
wx-button { color: #06ae56; background-color: rgba(255, 255, 255, .08); }
wx-button[type=primary] { color: #fff; background-color: #07c160; }
wx-button[disabled] { color: rgba(255, 255, 255, .2); background-color: rgba(255, 255, 255, .08); }
.wx-field-placeholder { color: rgba(255, 255, 255, .3); }
`;

/**
 * WeChat's navigation bar is native chrome above the page's webview (so the page's `100vh` ends below
 * it). A look-alike: the page title centred, the capsule (menu, close) on the right, the bar's colours
 * from the page config.
 */
function navigationBarHtml(title: string, background: string, textStyle: string): string {
  const color = textStyle === 'white' ? '#ffffff' : '#000000';
  // The capsule follows the bar's text style, as WeChat's does (dark glass with white marks in dark mode).
  return `<div class="nav${textStyle === 'white' ? ' nav-dark' : ''}" style="background:${escapeAttr(background)};color:${color}">
  <div class="nav-title">${escapeText(title)}</div>
  <div class="capsule"><span class="capsule-dots"><i></i><i></i><i></i></span><span class="capsule-line"></span><span class="capsule-close"></span></div>
</div>`;
}

const FRAME_CSS = `
html, body { margin: 0; height: 100%; overflow: hidden; }
body { display: flex; flex-direction: column; font-family: -apple-system, BlinkMacSystemFont, 'PingFang SC', sans-serif; }
.nav { flex: none; height: 44px; position: relative; display: flex; align-items: center; justify-content: center; }
.nav-title { font-size: 17px; font-weight: 600; }
.capsule {
  position: absolute; right: 7px; top: 6px; width: 87px; height: 32px; box-sizing: border-box;
  display: flex; align-items: center; border-radius: 16px; border: 1px solid rgba(0, 0, 0, .08);
  background: rgba(255, 255, 255, .6);
}
.capsule-dots { flex: 1; display: flex; justify-content: center; align-items: center; gap: 3px; }
.capsule-dots i { width: 5px; height: 5px; border-radius: 50%; background: #000; }
.capsule-dots i:nth-child(2) { width: 7px; height: 7px; }
.capsule-line { width: 1px; height: 18px; background: rgba(0, 0, 0, .15); }
.capsule-close { flex: 1; display: flex; justify-content: center; }
.capsule-close::before {
  content: ''; width: 12px; height: 12px; border-radius: 50%; border: 2.5px solid #000;
  box-shadow: inset 0 0 0 2.5px #fff, inset 0 0 0 6px #000;
}
iframe { flex: 1; width: 100%; border: 0; display: block; }
.nav-dark .capsule { background: rgba(0, 0, 0, .4); border-color: rgba(255, 255, 255, .15); }
.nav-dark .capsule-dots i { background: #fff; }
.nav-dark .capsule-line { background: rgba(255, 255, 255, .2); }
.nav-dark .capsule-close::before { border-color: #fff; box-shadow: inset 0 0 0 2.5px #000, inset 0 0 0 6px #fff; }
`;

/**
 * `scroll-into-view` is the scroll-view's job in WeChat: it scrolls so the element with that id is in
 * view (at the top, clamped to the end). The page's data names the anchor; this does the scrolling.
 */
function scrollIntoViewScript(anchorId: string): string {
  if (anchorId === '') return '';
  return `<script>addEventListener('load', () => { const a = document.getElementById(${JSON.stringify(anchorId)}); if (a) a.scrollIntoView({ block: 'start' }); });</script>`;
}

// ---------------------------------------------------------------------------------------------------
// The HTML file and the photograph.

interface PageConfig {
  navigationBarTitleText?: string;
  navigationBarBackgroundColor?: string;
  navigationBarTextStyle?: string;
}

function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

/** Window settings with theme.json's `@name` references resolved for `theme`. */
function themedWindow(theme: Theme): PageConfig {
  const app = readJson<{ window?: PageConfig; themeLocation?: string }>(join(miniprogramRoot, 'app.json'));
  const variables = app.themeLocation ? (readJson<Record<Theme, Record<string, string>>>(join(miniprogramRoot, app.themeLocation))[theme] ?? {}) : {};
  const resolved: Record<string, string> = {};
  for (const [key, value] of Object.entries(app.window ?? {})) {
    if (typeof value === 'string') resolved[key] = value.startsWith('@') ? (variables[value.slice(1)] ?? value) : value;
  }
  return resolved;
}

function standaloneHtml(root: HTMLElement, scrollAnchor: string, windowWidth: number, theme: Theme): string {
  const page = { ...themedWindow(theme), ...readJson<PageConfig>(join(miniprogramRoot, 'pages/chat/chat.json')) };
  const appCss = themedCss(wxssToCss(readFileSync(join(miniprogramRoot, 'app.wxss'), 'utf8'), windowWidth), theme);
  const pageCss = wxssToCss(readWxss(join(miniprogramRoot, 'pages/chat/chat.wxss')), windowWidth);
  // The page is its own document, as in WeChat's webview: `100vh` and `height: 100%` mean the area
  // under the navigation bar, not the whole screen.
  const webview = `<!doctype html><html><head><meta charset="utf-8">
<style>/* built-in component base styles (stand-in) */${COMPONENT_BASE_CSS}${theme === 'dark' ? DARK_COMPONENT_BASE_CSS : ''}</style>
<style>/* app.wxss */\n${appCss}</style>
<style>/* pages/chat/chat.wxss */\n${pageCss}</style>
<style>${componentsCss(windowWidth)}</style>
${scrollIntoViewScript(scrollAnchor)}
</head><body>${elementHtml(root)}</body></html>`;
  return `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>${escapeText(page.navigationBarTitleText ?? '')}</title>
<style>${FRAME_CSS}</style>
</head><body>
${navigationBarHtml(page.navigationBarTitleText ?? '', page.navigationBarBackgroundColor ?? '#ffffff', page.navigationBarTextStyle ?? 'black')}
<iframe srcdoc="${escapeAttr(webview)}"></iframe>
</body></html>
`;
}

function screenshot(htmlPath: string, pngPath: string, width: number, height: number, scale: number): void {
  const chromium = process.env.CHROMIUM ?? 'chromium';
  const work = mkdtempSync(join(tmpdir(), 'wxstream-chromium-'));
  const profile = join(work, 'profile');
  // Shot into a fresh path first, so a failed run can neither pass for a success nor clobber the picture.
  const shot = join(work, 'shot.png');
  try {
    const result = spawnSync(
      chromium,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--hide-scrollbars',
        `--user-data-dir=${profile}`,
        `--window-size=${width},${height}`,
        `--force-device-scale-factor=${scale}`,
        `--screenshot=${shot}`,
        pathToFileURL(htmlPath).href,
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
    if (result.error) throw new Error(`could not run ${chromium} (${result.error.message}); install chromium, fonts-noto-cjk and fonts-noto-color-emoji, or set CHROMIUM`);
    if (result.status !== 0) throw new Error(`${chromium} exited with ${result.status}:\n${result.stderr}`);
    if (statSync(shot, { throwIfNoEntry: false }) === undefined) throw new Error(`${chromium} wrote no screenshot:\n${result.stderr}`);
    mkdirSync(dirname(pngPath), { recursive: true });
    copyFileSync(shot, pngPath);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function positive(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number, got ${JSON.stringify(text)}`);
  return value;
}

async function shoot(scene: Scene, theme: Theme, out: string, keepHtml: string | undefined, size: { width: number; height: number; scale: number }): Promise<void> {
  const rendered = scene === 'stream' ? await renderMidReply() : await renderActions();
  let html: string;
  try {
    html = standaloneHtml(rendered.root, rendered.scrollAnchor, size.width, theme);
  } finally {
    rendered.close();
  }
  const htmlDir = keepHtml === undefined ? mkdtempSync(join(tmpdir(), 'wxstream-screenshot-')) : undefined;
  const htmlPath = keepHtml === undefined ? join(htmlDir ?? '', 'chat-page.html') : resolve(keepHtml);
  try {
    mkdirSync(dirname(htmlPath), { recursive: true });
    writeFileSync(htmlPath, html);
    screenshot(htmlPath, resolve(out), size.width, size.height, size.scale);
  } finally {
    if (htmlDir) rmSync(htmlDir, { recursive: true, force: true });
  }
  console.log(`wrote ${resolve(out)} (${scene}, ${theme}, ${size.width}×${size.height} CSS px at ${size.scale}x)${keepHtml === undefined ? '' : ` and ${htmlPath}`}`);
}

/** Where a scene's picture goes by default. The streaming picture stays the README's light one. */
function defaultOut(scene: Scene, theme: Theme): string {
  const images = resolve(appDir, '../../docs/images');
  if (scene === 'stream') return join(images, theme === 'light' ? 'chat-page.png' : 'chat-page-dark.png');
  return join(images, `chat-actions-${theme}.png`);
}

function oneOf<T extends string>(name: string, value: string | undefined, allowed: readonly T[]): T[] {
  if (value === undefined) return [...allowed];
  if (!(allowed as readonly string[]).includes(value)) throw new Error(`--${name} must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
  return [value as T];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      scene: { type: 'string' },
      theme: { type: 'string' },
      out: { type: 'string' },
      html: { type: 'string' },
      width: { type: 'string', default: '375' },
      height: { type: 'string', default: '720' },
      scale: { type: 'string', default: '2' },
    },
  });
  const size = { width: positive('width', values.width), height: positive('height', values.height), scale: positive('scale', values.scale) };
  const scenes = oneOf<Scene>('scene', values.scene, ['stream', 'actions']);
  const themes = oneOf<Theme>('theme', values.theme, ['light', 'dark']);
  if ((values.out !== undefined || values.html !== undefined) && scenes.length * themes.length > 1) {
    throw new Error('--out and --html name one picture: give --scene and --theme too');
  }
  for (const scene of scenes) {
    for (const theme of themes) await shoot(scene, theme, values.out ?? defaultOut(scene, theme), values.html, size);
  }
}

await main();
