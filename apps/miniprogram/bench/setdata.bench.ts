/**
 * What the chat page costs on the logic→view bridge while a reply streams, against a naive page.
 *
 * The real page (built script + vendor bundle, official WXML compiler, miniprogram-simulate) streams a
 * 2,000- and a 10,000-character reply after a few earlier turns. The server's SSE bytes are timed like
 * a model emitting one to three characters every 20–45 ms, and delivered the way `onChunkReceived`
 * does (see `deliveries`): mostly one chunk per server write, merged when writes arrive together,
 * bursts after network stalls, some cut mid-event or mid-character. Time is simulated, so the figures
 * are exact and repeatable (seeded), and the run takes seconds.
 *
 * Side by side, on the same RequestTask and the same bytes (through the same client transport), a naive
 * page calls `setData({ messages })` with the whole list on every chunk that brought text. A third line
 * prices our own render cadence with the whole reply text on one path key (`messages[i].text`), to
 * show what the block split adds on top of pacing.
 *
 * Printed per reply: setData calls, calls/s (average and the busiest simulated second), bytes per call
 * (p50 / max) and total bytes — and the ratios naive ÷ ours.
 */
import { createRequire } from 'node:module';
import { formatSseEvent, type ReplyEvent } from '@wxstream/protocol';
import { ChatPage } from '../test/support/chat-page.ts';
// Plain Node (not jest) must be told the generated .js files are CommonJS before simulate requires them.
import '../test/support/miniprogram-require.ts';
import type { FakeRequestTask } from '../test/support/fake-wx.ts';
import { vendorBundlePath } from '../test/support/paths.ts';
import { utf8 } from '../test/support/sse-stream.ts';
import { seeded } from './seeded-random.ts';

type VendorModule = typeof import('../miniprogram/vendor/wxstream-client.js');
const vendor = createRequire(import.meta.url)(vendorBundlePath) as VendorModule;

const SENTENCES = [
  '流式输出让用户在第一时间看到回复的开头。',
  '小程序的逻辑层和视图层之间，每一次 setData 都要跨线程传输数据。',
  '如果每收到一个分片就把整个消息列表发送一遍，传输量会随着回复变长而迅速增加。',
  '更好的做法是按帧合并更新，并且只发送真正变化的字段。',
  '已经完成的段落不会再变化，所以不需要再次发送。',
  '在 iOS 上，同一时间只有一个分块请求能收到数据。',
  'Emoji 👍🏽 和国旗 🇨🇳 这样的字符由多个码位组成，不能从中间切开。',
  '- 列表项也是常见的回复格式，例如步骤说明。',
];

function replyText(chars: number, random: () => number): string {
  let text = '';
  while (Array.from(text).length < chars) {
    const sentences = 2 + Math.floor(random() * 4);
    for (let i = 0; i < sentences; i++) text += SENTENCES[Math.floor(random() * SENTENCES.length)] ?? '';
    text += '\n\n';
  }
  return Array.from(text).slice(0, chars).join('');
}

interface Delivery {
  at: number;
  bytes: Uint8Array;
}

/**
 * The reply's SSE bytes with the time each event was written, turned into timed network deliveries:
 * each write arrives 40–70 ms later; writes arriving within the same 8 ms are merged into one chunk;
 * now and then (2% of writes) the network stalls for 200–600 ms and what piled up arrives at once; and
 * 30% of deliveries stop short — mid-event, often mid-character — leaving the rest for the next one.
 */
function deliveries(text: string, random: () => number): Delivery[] {
  const events: { at: number; event: ReplyEvent }[] = [];
  let id = 0;
  let at = 400; // time to first token
  events.push({ at, event: { id: ++id, type: 'start', data: { conversationId: 'c-bench', messageId: 'r-bench', model: 'bench' } } });
  const chars = Array.from(text);
  for (let i = 0; i < chars.length; ) {
    const take = 1 + Math.floor(random() * 3);
    at += 20 + Math.floor(random() * 26);
    events.push({ at, event: { id: ++id, type: 'delta', data: { text: chars.slice(i, i + take).join('') } } });
    i += take;
  }
  events.push({ at, event: { id: ++id, type: 'usage', data: { promptTokens: 200, completionTokens: chars.length } } });
  events.push({ at, event: { id: ++id, type: 'done', data: { finishReason: 'stop' } } });

  const arrivals: { at: number; bytes: Uint8Array }[] = [];
  let stalledUntil = 0;
  let lastArrival = 0;
  for (const { at: written, event } of events) {
    if (random() < 0.02) stalledUntil = written + 200 + Math.floor(random() * 400);
    const arrival = Math.max(lastArrival, stalledUntil, written + 40 + Math.floor(random() * 31));
    lastArrival = arrival;
    arrivals.push({ at: arrival, bytes: utf8(formatSseEvent(event)) });
  }

  const out: Delivery[] = [];
  let pending: number[] = [];
  for (let i = 0; i < arrivals.length; ) {
    const windowEnd = (arrivals[i]?.at ?? 0) + 8;
    let deliverAt = arrivals[i]?.at ?? 0;
    while (i < arrivals.length && (arrivals[i]?.at ?? Infinity) <= windowEnd) {
      deliverAt = arrivals[i]?.at ?? deliverAt;
      pending.push(...(arrivals[i++]?.bytes ?? []));
    }
    const last = i >= arrivals.length;
    const cut = !last && random() < 0.3 && pending.length > 1 ? 1 + Math.floor(random() * (pending.length - 1)) : pending.length;
    out.push({ at: deliverAt, bytes: Uint8Array.from(pending.slice(0, cut)) });
    pending = pending.slice(cut);
  }
  return out;
}

interface Figures {
  calls: number;
  seconds: number;
  busiestSecond: number;
  p50: number;
  max: number;
  total: number;
}

function figures(calls: readonly { at: number; bytes: number }[]): Figures {
  const sizes = calls.map((c) => c.bytes).sort((a, b) => a - b);
  const first = calls[0]?.at ?? 0;
  const last = calls[calls.length - 1]?.at ?? 0;
  const perSecond = new Map<number, number>();
  for (const call of calls) {
    const second = Math.floor((call.at - first) / 1000);
    perSecond.set(second, (perSecond.get(second) ?? 0) + 1);
  }
  return {
    calls: calls.length,
    seconds: Math.max(0.001, (last - first) / 1000),
    busiestSecond: Math.max(0, ...perSecond.values()),
    p50: sizes[Math.floor((sizes.length - 1) / 2)] ?? 0,
    max: sizes[sizes.length - 1] ?? 0,
    total: sizes.reduce((sum, n) => sum + n, 0),
  };
}

const bytesOf = (value: unknown): number => Buffer.byteLength(JSON.stringify(value));

interface NaiveMessage {
  id: string;
  role: 'user' | 'assistant';
  text: string;
  status: string;
}

/**
 * The naive page: the same transport on the same task, and on every chunk that brought text,
 * `setData({ messages })` with the whole list. Its payloads are recorded, not rendered.
 */
function attachNaivePage(task: FakeRequestTask, history: NaiveMessage[], question: string, clock: () => number) {
  const calls: { at: number; bytes: number }[] = [];
  const messages: NaiveMessage[] = [
    ...history,
    { id: `n${history.length}`, role: 'user', text: question, status: 'sent' },
    { id: `n${history.length + 1}`, role: 'assistant', text: '', status: 'streaming' },
  ];
  const reply = messages[messages.length - 1] as NaiveMessage;
  let changed = false;
  vendor.openReplyStream({
    request: () => task,
    url: 'https://bench.test/api/chat',
    body: { message: question },
    handlers: {
      onEvent(event) {
        if (event.type === 'delta') {
          reply.text += event.data.text;
          changed = true;
        } else if (event.type === 'done' || event.type === 'error') {
          reply.status = event.type;
          changed = true;
        }
      },
      onError() {
        reply.status = 'error';
        changed = true;
      },
    },
  });
  return {
    calls,
    text: () => reply.text,
    /** Called after each chunk is delivered: the naive page's setData for that chunk. */
    afterChunk() {
      if (!changed) return;
      changed = false;
      calls.push({ at: clock(), bytes: bytesOf({ messages }) });
    },
  };
}

async function earlierTurns(page: ChatPage, turns: number): Promise<NaiveMessage[]> {
  const history: NaiveMessage[] = [];
  for (let i = 0; i < turns; i++) {
    const question = `第 ${i + 1} 个问题：请简单解释一下流式输出。`;
    const answer = `第 ${i + 1} 个回答：${SENTENCES.slice(0, 4).join('')}`;
    await page.send(question);
    const task = page.wx.lastTask();
    task.respond(200);
    const events: ReplyEvent[] = [
      { id: 1, type: 'start', data: { conversationId: 'c-bench', messageId: `r${i}`, model: 'bench' } },
      { id: 2, type: 'delta', data: { text: answer } },
      { id: 3, type: 'done', data: { finishReason: 'stop' } },
    ];
    task.chunk(utf8(events.map(formatSseEvent).join('')).slice().buffer);
    await page.advance(3000);
    history.push({ id: `h${2 * i}`, role: 'user', text: question, status: 'sent' });
    history.push({ id: `h${2 * i + 1}`, role: 'assistant', text: answer, status: 'done' });
  }
  return history;
}

/** Sets `value` at a setData path (`[3].parts[0].runs[1].text`) inside `root`, creating what is missing. */
function setPath(root: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.match(/[^.[\]]+/g) ?? [];
  let node: Record<string, unknown> = root;
  parts.forEach((part, index) => {
    if (index === parts.length - 1) {
      node[part] = value;
      return;
    }
    const next = node[part];
    if (typeof next !== 'object' || next === null) node[part] = /^\d+$/.test(parts[index + 1] ?? '') ? [] : {};
    node = node[part] as Record<string, unknown>;
  });
}

/** Every `text` field under a display block list, in order: the reply's text as shown. */
function shownText(value: unknown): string {
  if (Array.isArray(value)) return value.map(shownText).join('');
  if (typeof value !== 'object' || value === null) return '';
  return Object.entries(value as Record<string, unknown>)
    .map(([key, field]) => (key === 'text' && typeof field === 'string' ? field : shownText(field)))
    .join('');
}

/** Our render calls priced as one path key holding the whole reply text so far. */
function wholeTextFigures(page: ChatPage, firstCall: number, replyIndex: number): { at: number; bytes: number }[] {
  const out: { at: number; bytes: number }[] = [];
  const view: Record<string, unknown> = {};
  const prefix = `messages[${replyIndex}].blocks`;
  for (const call of page.calls.slice(firstCall)) {
    let textChanged = false;
    for (const [key, value] of Object.entries(call.data)) {
      if (!key.startsWith(prefix)) continue;
      setPath(view, `blocks${key.slice(prefix.length)}`, value);
      textChanged = true;
    }
    const rest = Object.fromEntries(Object.entries(call.data).filter(([key]) => !key.startsWith(prefix)));
    out.push({ at: call.at, bytes: bytesOf(textChanged ? { ...rest, [`messages[${replyIndex}].text`]: shownText(view.blocks) } : rest) });
  }
  return out;
}

async function run(chars: number, seed: number) {
  const random = seeded(seed);
  const text = replyText(chars, random);
  const plan = deliveries(text, random);
  const page = new ChatPage();
  try {
    const history = await earlierTurns(page, 3);
    const question = `请写一篇 ${chars} 字的说明。`;
    await page.send(question);
    const task = page.wx.lastTask();
    const naive = attachNaivePage(task, history, question, () => page.timers.now());
    const firstCall = page.calls.length;
    const replyIndex = history.length + 1;
    const started = page.timers.now();
    const wallStart = performance.now();
    task.respond(200);
    for (const delivery of plan) {
      page.timers.tick(Math.max(0, started + delivery.at - page.timers.now()));
      task.chunk(delivery.bytes.slice().buffer);
      naive.afterChunk();
    }
    task.succeed();
    await page.advance(3000);
    const wallMs = performance.now() - wallStart;
    // The reply renders as Markdown: its list lines show a bullet instead of `- `, blocks stand apart.
    const shown = page.replyText().replace(/[•\s]/g, '');
    if (shown !== text.replace(/^- /gm, '').replace(/\s/g, '')) throw new Error(`the page shows ${shown.length} characters, not the reply's text`);
    if (naive.text() !== text) throw new Error('the naive page received a different text');
    return {
      chars,
      chunks: plan.length,
      streamSeconds: ((plan[plan.length - 1]?.at ?? 0) - (plan[0]?.at ?? 0)) / 1000,
      ours: figures(page.calls.slice(firstCall)),
      wholeText: figures(wholeTextFigures(page, firstCall, replyIndex)),
      naive: figures(naive.calls),
      wallMs,
    };
  } finally {
    page.close();
  }
}

function kb(bytes: number): string {
  return bytes >= 10_240 ? `${(bytes / 1024).toFixed(0)} KB` : bytes >= 1024 ? `${(bytes / 1024).toFixed(1)} KB` : `${bytes} B`;
}

function row(label: string, f: Figures): string {
  return [
    label.padEnd(34),
    String(f.calls).padStart(6),
    (f.calls / f.seconds).toFixed(1).padStart(7),
    String(f.busiestSecond).padStart(8),
    kb(f.p50).padStart(9),
    kb(f.max).padStart(9),
    kb(f.total).padStart(9),
  ].join(' ');
}

const header = ['setData strategy'.padEnd(34), 'calls'.padStart(6), 'calls/s'.padStart(7), 'max/1s'.padStart(8), 'p50'.padStart(9), 'max'.padStart(9), 'total'.padStart(9)].join(' ');

console.log('setData per streamed reply — simulated clock, 3 earlier turns in the list, seeded cadence');
for (const [chars, seed] of [
  [2000, 1],
  [10000, 2],
] as const) {
  const r = await run(chars, seed);
  console.log(`\n${r.chars.toLocaleString('en')}-character reply: ${r.chunks} network chunks over ${r.streamSeconds.toFixed(1)} s (bench wall time ${r.wallMs.toFixed(0)} ms)`);
  console.log(header);
  console.log(row('ours: paced, per-block path keys', r.ours));
  console.log(row('paced, whole text on one path key', r.wholeText));
  console.log(row('naive: whole messages per chunk', r.naive));
  const ratio = (a: number, b: number) => `${(a / Math.max(1, b)).toFixed(1)}×`;
  console.log(
    `naive ÷ ours: ${ratio(r.naive.calls, r.ours.calls)} the calls, ${ratio(r.naive.total, r.ours.total)} the bytes, ` +
      `${ratio(r.naive.max, r.ours.max)} the largest call; whole-text path key ÷ ours: ${ratio(r.wholeText.total, r.ours.total)} the bytes`,
  );
  console.log(`target ≤ 20 calls/s: busiest second had ${r.ours.busiestSecond} calls — ${r.ours.busiestSecond <= 20 ? 'met' : 'MISSED'}`);
}
