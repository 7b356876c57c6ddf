/**
 * What opening a long conversation costs the chat page, before and after paging.
 *
 * The real page (built script + vendor bundle, official WXML compiler, miniprogram-simulate on jsdom)
 * opens a stored conversation of 200 messages — 100 questions and 100 replies of realistic length
 * (seeded: 300–1,500 characters, paragraphs, lists and code). "Before" is the unpaged read every client
 * made until now: the server answers the whole conversation and the page sets it with one `setData`
 * (the in-memory server is told to ignore `?limit`, as a server without paging would). "After" is the
 * paged read: the newest 30 messages, then older pages of 30 as the reader scrolls up.
 *
 * Printed: the bytes of the largest `setData` (the JSON the bridge would carry), the messages it held,
 * and time to first paint — wall time from `onLoad` until the `setData` that shows the messages has
 * rendered (j-component renders synchronously into jsdom) — as the median of RUNS runs after WARMUP,
 * with the spread. The response arrives at once (in-memory), so the times are the page's own work:
 * reading the answer, splitting replies into blocks, building and rendering the list. They are
 * simulator figures on this machine, not a phone's; the byte counts are exact on any machine.
 */
import { ChatPage, type SetDataCall } from '../test/support/chat-page.ts';
// Plain Node (not jest) must be told the generated .js files are CommonJS before simulate requires them.
import '../test/support/miniprogram-require.ts';
import { storedMessage } from '../test/support/fake-backend.ts';
import type { StoredMessage } from '@wxstream/protocol';
import { seeded } from './seeded-random.ts';

const MESSAGES = 200;
const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const WARMUP = 3;

const SENTENCES = [
  '流式输出让用户在第一时间看到回复的开头。',
  '小程序的逻辑层和视图层之间，每一次 setData 都要跨线程传输数据。',
  '更好的做法是按帧合并更新，并且只发送真正变化的字段。',
  '已经完成的段落不会再变化，所以不需要再次发送。',
  '- 列表项也是常见的回复格式，例如步骤说明。',
  '1. 先打开 **enableChunked**；\n2. 再按字节流解码。',
];

function conversation(): StoredMessage[] {
  const random = seeded(7);
  const messages: StoredMessage[] = [];
  for (let turn = 1; turn <= MESSAGES / 2; turn++) {
    messages.push(storedMessage({ id: `q-${turn}`, role: 'user', text: `第 ${turn} 个问题：小程序里怎么把回复一边生成一边显示？` }));
    const target = 300 + Math.floor(random() * 1200);
    let text = '';
    while (Array.from(text).length < target) {
      text += SENTENCES[Math.floor(random() * SENTENCES.length)] ?? '';
      if (random() < 0.25) text += '\n\n';
      if (random() < 0.05) text += '\n\n```js\nconst task = wx.request({ url, enableChunked: true });\n```\n\n';
    }
    messages.push(storedMessage({ id: `a-${turn}`, role: 'assistant', text, finishReason: 'stop' }));
  }
  return messages;
}

interface Run {
  largestBytes: number;
  largestMessages: number;
  firstPaintMs: number;
  shown: number;
}

function messagesIn(call: SetDataCall): number {
  let count = 0;
  for (const [key, value] of Object.entries(call.data)) {
    if ((key === 'messages' || /^older\.p\d+$/.test(key)) && Array.isArray(value)) count += value.length;
  }
  return count;
}

async function open(unpaged: boolean, stored: StoredMessage[]): Promise<Run> {
  let paintedAt: bigint | undefined;
  const page = new ChatPage({
    beforeLoad: (wx) => {
      wx.backend.addConversation({ id: 'c-long', title: '长对话', messages: stored });
      wx.backend.unpaged = unpaged;
    },
  });
  try {
    const instance = page.root.instance;
    const recorded = instance.setData.bind(instance);
    instance.setData = (data, callback) => {
      recorded(data, callback);
      if ('messages' in data && paintedAt === undefined) paintedAt = process.hrtime.bigint();
    };
    const started = process.hrtime.bigint();
    await page.load({ conversationId: 'c-long' });
    if (paintedAt === undefined) throw new Error('the conversation was never shown');
    const shown = page.findAll('.answer').length;
    const largest = page.calls.reduce((max, call) => (call.bytes > max.bytes ? call : max), page.calls[0] as SetDataCall);
    return { largestBytes: largest.bytes, largestMessages: messagesIn(largest), firstPaintMs: Number(paintedAt - started) / 1e6, shown };
  } finally {
    page.close();
  }
}

/** The paged page, then scrolled up to the first message: the largest setData over the whole way back. */
async function pageBackToStart(stored: StoredMessage[]): Promise<{ largestBytes: number; largestMessages: number; pages: number }> {
  const page = new ChatPage({ beforeLoad: (wx) => wx.backend.addConversation({ id: 'c-long', title: '长对话', messages: stored }) });
  try {
    await page.load({ conversationId: 'c-long' });
    let pages = 1;
    while (page.data.hasOlder === true) {
      await page.dispatch('.list', 'scrolltoupper', { direction: 'top' });
      pages++;
    }
    if (page.findAll('.answer').length !== MESSAGES) throw new Error('paging back did not reach every message');
    const largest = page.calls.reduce((max, call) => (call.bytes > max.bytes ? call : max), page.calls[0] as SetDataCall);
    return { largestBytes: largest.bytes, largestMessages: messagesIn(largest), pages };
  } finally {
    page.close();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

function kb(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KB`;
}

const stored = conversation();
const totalChars = stored.reduce((n, m) => n + Array.from(m.text).length, 0);
const results: Record<'before' | 'after', Run[]> = { before: [], after: [] };
// Interleaved, so drift on a shared machine hits both sides alike.
for (let i = 0; i < WARMUP + RUNS; i++) {
  for (const side of ['before', 'after'] as const) {
    const run = await open(side === 'before', stored);
    if (i >= WARMUP) results[side].push(run);
  }
}
const back = await pageBackToStart(stored);

console.log(`opening a ${MESSAGES}-message conversation (${totalChars.toLocaleString('en')} characters) — miniprogram-simulate, median of ${RUNS} runs`);
console.log(['', 'before (unpaged)'.padStart(18), 'after (paged)'.padStart(18)].join(''));
const line = (label: string, f: (r: Run[]) => string) => console.log(label.padEnd(30) + f(results.before).padStart(18) + f(results.after).padStart(18));
line('messages in the first paint', (r) => String(r[0]?.shown ?? 0));
line('largest setData', (r) => kb(r[0]?.largestBytes ?? 0));
line('messages in it', (r) => String(r[0]?.largestMessages ?? 0));
line('time to first paint (median)', (r) => `${median(r.map((x) => x.firstPaintMs)).toFixed(1)} ms`);
line('  min – max', (r) => `${Math.min(...r.map((x) => x.firstPaintMs)).toFixed(1)}–${Math.max(...r.map((x) => x.firstPaintMs)).toFixed(1)} ms`);
console.log(`paging back to the first message: ${back.pages} pages, largest setData ${kb(back.largestBytes)} (${back.largestMessages} messages)`);
