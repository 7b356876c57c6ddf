/**
 * Markdown replies on the real chat page (built scripts, WeChat's WXML compiler, miniprogram-simulate):
 * a streamed reply ends with exactly the WXML of the same reply reopened from history, finished blocks
 * are never sent again, half-typed syntax never reaches the view, and the reply's controls do what they
 * say — code copies its exact code, links copy their URL, images open in the previewer, a long-press
 * copies the whole reply.
 */
import assert from 'node:assert/strict';
import { test } from '@jest/globals';
import { MARKDOWN_CORPUS } from '@wxstream/client/testing/markdown-corpus';
import { afterThisTest } from './support/after-this-test.ts';
import { ChatPage, readPath, type SetDataCall } from './support/chat-page.ts';
import { storedMessage } from './support/fake-backend.ts';
import type { FakeWx } from './support/fake-wx.ts';
import { byteChunks, replyEvents, sseText, utf8 } from './support/sse-stream.ts';

function openPage(wx?: FakeWx): ChatPage {
  const page = new ChatPage({ wx });
  afterThisTest(() => page.close());
  return page;
}

/** Sends a question and streams `text` (and `reasoning`) as the answer, to its end. */
async function streamAnswer(page: ChatPage, text: string, reasoning?: string, deltas = 300): Promise<SetDataCall[]> {
  await page.send('问题');
  const first = page.calls.length;
  const task = page.wx.lastTask();
  task.respond(200);
  await page.feed(task, byteChunks(utf8(sseText(replyEvents({ text, reasoning, deltas })))), 30);
  task.succeed();
  await page.advance(3000);
  return page.calls.slice(first);
}

/** The last reply's answer as rendered WXML (simulate's DOM of the compiled template). */
function answerHtml(page: ChatPage): string {
  const answers = page.findAll('.answer');
  return answers[answers.length - 1]?.dom.innerHTML ?? '';
}

const LINKS_AND_IMAGES = '看 [文档](https://example.com/docs) 和 https://example.com/x。\n\n![架构图](https://example.com/arch.png)\n\n[坏链接](javascript:alert(1))';

// Real time, not simulated time: simulate re-renders the page on each of a few hundred frames.
const SLOW = 120_000;

for (const { name, text } of MARKDOWN_CORPUS.slice(0, 3)) {
  test(`${name}: streamed, it ends with the same WXML as when reopened from history`, async () => {
    const live = openPage();
    await streamAnswer(live, text);
    const streamedHtml = answerHtml(live);
    live.close();

    const stored = openPage();
    stored.wx.backend.addConversation({
      id: 'c-md',
      title: 'Markdown',
      messages: [storedMessage({ id: 's1', role: 'user', text: '问题' }), storedMessage({ id: 's2', role: 'assistant', text, finishReason: 'stop' })],
    });
    await stored.load({ conversationId: 'c-md' });
    assert.ok(streamedHtml.length > 1000);
    assert.equal(streamedHtml, answerHtml(stored));
  }, SLOW);
}

test('while a reply streams, a finished block is never sent again and each frame carries only the open block', async () => {
  const text = MARKDOWN_CORPUS[0]?.text ?? '';
  const page = openPage();
  const calls = await streamAnswer(page, text);
  const lastTouch = new Map<number, number>();
  const firstSeen = new Map<number, number>();
  calls.forEach((call, index) => {
    for (const key of Object.keys(call.data)) {
      const match = /^messages\[1\]\.blocks\[(\d+)\]/.exec(key);
      if (!match) continue;
      const block = Number(match[1]);
      lastTouch.set(block, index);
      if (!firstSeen.has(block)) firstSeen.set(block, index);
    }
    assert.deepEqual(call.unchanged, [], `frame ${index} resends unchanged keys`);
  });
  const blocks = [...firstSeen.keys()].sort((a, b) => a - b);
  assert.ok(blocks.length >= 10, `${blocks.length} blocks`);
  for (const block of blocks) {
    const later = firstSeen.get(block + 3);
    if (later !== undefined) assert.ok((lastTouch.get(block) ?? 0) < later, `block ${block} was touched after block ${block + 3} appeared`);
  }
  // Bytes per frame stay bounded by a block, far below the reply.
  const replyBytes = Buffer.byteLength(JSON.stringify(page.data.messages));
  const biggest = Math.max(...calls.map((call) => call.bytes));
  assert.ok(biggest * 4 < replyBytes, `largest frame ${biggest} B of a ${replyBytes} B reply`);
}, SLOW);

test('half-typed Markdown never reaches the view: no frame shows stars, backticks or brackets the final reply does not', async () => {
  const text = '先看**重点**和 `code`，再看 [链接](https://example.com) 与 ~~旧说法~~。\n\n- 第一项 *强调*\n- 第二项\n';
  const page = openPage();
  await page.send('问题');
  const task = page.wx.lastTask();
  task.respond(200);
  const finalMarkers = (s: string) => (s.match(/[*`[\]~]/g) ?? []).length;
  let worst = 0;
  for (const chunk of byteChunks(utf8(sseText(replyEvents({ text, deltas: Array.from(text).length }))), [3])) {
    task.chunk(chunk);
    page.timers.tick(20);
    worst = Math.max(worst, finalMarkers(page.replyText()));
  }
  task.succeed();
  await page.advance(3000);
  assert.equal(finalMarkers(page.replyText()), 0);
  assert.equal(worst, 0, 'some frame showed a Markdown marker');
  assert.ok(page.findAll('.answer >>> .md-strong').length > 0);
}, SLOW);

test('tapping a link copies its URL with a toast; unsafe links are plain text', async () => {
  const page = openPage();
  await streamAnswer(page, LINKS_AND_IMAGES, undefined, 40);
  const links = page.findAll('.answer >>> .md-link');
  assert.deepEqual(links.map((link) => link.dom.textContent), ['文档', 'https://example.com/x']);
  assert.match(page.replyText(), /坏链接$/);
  await page.tap('.answer >>> .md-link');
  assert.deepEqual(page.wx.clipboard, ['https://example.com/docs']);
  assert.deepEqual(page.wx.toasts, ['链接已复制']);
});

test('an https image loads lazily and opens in the image previewer', async () => {
  const page = openPage();
  await streamAnswer(page, LINKS_AND_IMAGES, undefined, 40);
  assert.equal(page.attr('.answer >>> .md-img', 'src'), 'https://example.com/arch.png');
  assert.equal(page.attr('.answer >>> .md-img', 'lazyLoad'), true);
  await page.tap('.answer >>> .md-img');
  assert.deepEqual(page.wx.previews, [{ urls: ['https://example.com/arch.png'], current: 'https://example.com/arch.png' }]);
});

test('every code block copies exactly its own code, indentation and blank lines kept', async () => {
  const text = MARKDOWN_CORPUS[2]?.text ?? '';
  const page = openPage();
  await streamAnswer(page, text);
  const fences = [...text.matchAll(/^```\w*\n([\s\S]*?)\n```$/gm)].map((match) => match[1]);
  const indented = '这是一个缩进代码块\n第二行';
  const buttons = page.findAll('.answer >>> .code-copy');
  assert.equal(buttons.length, fences.length + 1);
  for (const button of buttons) {
    button.dispatchEvent('tap');
  }
  await page.advance(100);
  assert.deepEqual([...page.wx.clipboard].sort(), [...fences, indented].sort());
  assert.ok(page.wx.toasts.every((toast) => toast === '代码已复制'));
}, SLOW);

test('reasoning renders as Markdown too', async () => {
  const page = openPage();
  await streamAnswer(page, '答案。', '先想 **关键点**：\n\n1. 第一步\n2. 第二步', 20);
  await page.tap('.reasoning-toggle');
  assert.equal(page.text('.reasoning-body >>> .md-strong'), '关键点');
  assert.equal(page.findAll('.reasoning-body >>> .md-li').length, 2);
});

test('a long-press on a reply offers to copy the whole reply, as its Markdown (what the action bar’s 复制 does)', async () => {
  const page = openPage();
  const text = '# 标题\n\n正文 **加粗**。';
  await streamAnswer(page, text, undefined, 10);
  page.wx.sheetAnswers.push(0);
  const answers = page.findAll('.answer');
  answers[answers.length - 1]?.dispatchEvent('longpress');
  await page.advance(100);
  assert.deepEqual(page.wx.sheets, [['复制全文']]);
  assert.deepEqual(page.wx.clipboard, [text]);
  assert.deepEqual(page.wx.toasts, ['已复制']);
  assert.equal(readPath(page.data, 'messages[1].blocks[0].kind'), 'heading');
});
