/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof`, or `reply-start.bench.ts` with
 * REPLY_START_PROFILE) as four tables: time by area of the server (below), self time by where the
 * code lives (a package under node_modules, a file of ours, node's internals, or V8's own entries
 * such as `(garbage collector)`), self time by function, and total (inclusive) time by function.
 *
 * Areas: a sample belongs to the first area in `AREAS` with a frame anywhere on its stack, so a
 * socket write made by the upstream request counts as upstream, not as a socket write; then to the
 * first of `FALLBACK_AREAS` that matches; else to "other". Async continuations start new stacks
 * (from `runMicrotasks`), so an area only sees work whose own frames are on the stack.
 *
 * Usage: `node bench/cpuprofile-summary.ts <file.cpuprofile> [rows, default 30] [divisor]` — with a
 * divisor (e.g. the number of replies profiled), times are also printed per unit, in µs.
 * Every sample counts as the median interval between samples, rather than as its own delta: when
 * the process is descheduled (two cores shared by several processes) the next sample's delta
 * spans the gap and would charge it to whatever ran then. A function counts once per sample in the
 * total table even when it recurses. `(idle)` is left out of the percentages: they are of busy time.
 */
import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, rowsArg, divisorArg] = process.argv.slice(2);
if (file === undefined) throw new Error('usage: node bench/cpuprofile-summary.ts <file.cpuprofile> [rows] [divisor]');
const rows = Number(rowsArg ?? 30);
const divisor = divisorArg === undefined ? undefined : Number(divisorArg);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;

const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const parentOf = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);

/** Where the code lives: the package for node_modules (pnpm's `.pnpm/x@v/node_modules/x` too), else the path from `src/`. */
function place(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return url;
  const modules = url.lastIndexOf('/node_modules/');
  if (modules !== -1) {
    const rest = url.slice(modules + '/node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') === true ? `${rest[0]}/${rest[1] ?? ''}` : (rest[0] ?? url);
  }
  const ours = url.search(/\/(apps|packages)\//);
  return ours === -1 ? url : url.slice(ours + 1);
}

function label(frame: CallFrame): string {
  const name = frame.functionName === '' ? '(anonymous)' : frame.functionName;
  if (frame.url === '') return name;
  const where = place(frame.url, frame.functionName);
  const fileName = frame.url.split('/').at(-1) ?? '';
  return `${name}  ${where === fileName ? '' : `${where} `}${fileName}:${frame.lineNumber + 1}`;
}

type FrameTest = (frame: CallFrame) => boolean;
const inUrl =
  (pattern: RegExp): FrameTest =>
  (frame) =>
    pattern.test(frame.url);
const AREAS: ReadonlyArray<readonly [string, FrameTest]> = [
  ['upstream request: openai SDK + fetch (undici, web streams)', inUrl(/node_modules\/.*\/openai\/|undici|webstreams/)],
  ['upstream stream: node:http client, SSE + JSON reading', inUrl(/_http_client|node-http-fetch|chat-completion-stream|sse-parser|string_decoder/)],
  ['SQLite store', inUrl(/storage\/(sqlite-store|record-rows)\.ts/)],
  ['token check', inUrl(/auth\/token\.ts|crypto\/hash/)],
  ['conversation title', inUrl(/conversation-title\.ts/)],
  ['reply log (append, read, SSE framing)', inUrl(/reply-log|sse-format/)],
  ['content guard', inUrl(/content-guard|content-checker|reply-check-segmenter/)],
  ['pino', inUrl(/\/pino/)],
  ['metrics', inUrl(/prom-client|server-metrics/)],
  ['benchmark harness (IPC, profiler)', inUrl(/inspector|child_process|bench\//)],
];
const FALLBACK_AREAS: ReadonlyArray<readonly [string, FrameTest]> = [
  ['garbage collector', (frame) => frame.functionName === '(garbage collector)'],
  ['response: HTTP out, socket writes', (frame) => frame.functionName === 'writev' || /_http_outgoing|stream_base_commons/.test(frame.url)],
  ['request: HTTP parse, Koa, router, body', inUrl(/koa|router|_http_server|_http_common|_http_incoming|json-body|delegates|on-finished|request-id|error-handler/)],
  ['TCP connect (to the provider)', (frame) => frame.functionName === 'connect' || frame.url === 'node:net'],
];

const self = new Map<string, number>();
const areas = new Map<string, number>();
const total = new Map<string, number>();
const places = new Map<string, number>();
let busy = 0;
let idle = 0;
const add = (map: Map<string, number>, key: string, us: number) => map.set(key, (map.get(key) ?? 0) + us);

const deltas = profile.timeDeltas.filter((delta) => delta > 0).sort((a, b) => a - b);
const us = deltas[Math.floor(deltas.length / 2)] ?? 0;
for (let index = 0; index < profile.samples.length; index += 1) {
  const leaf = byId.get(profile.samples[index] ?? -1);
  if (leaf === undefined) continue;
  if (leaf.callFrame.functionName === '(idle)') {
    idle += us;
    continue;
  }
  busy += us;
  add(self, label(leaf.callFrame), us);
  add(places, place(leaf.callFrame.url, leaf.callFrame.functionName), us);
  const stack: CallFrame[] = [];
  for (let node: ProfileNode | undefined = leaf; node !== undefined; node = byId.get(parentOf.get(node.id) ?? -1)) stack.push(node.callFrame);
  const area = [...AREAS, ...FALLBACK_AREAS].find(([, test]) => stack.some(test))?.[0] ?? 'other';
  add(areas, area, us);
  const seen = new Set<string>();
  for (let node: ProfileNode | undefined = leaf; node !== undefined; node = byId.get(parentOf.get(node.id) ?? -1)) {
    const key = label(node.callFrame);
    if (seen.has(key)) continue;
    seen.add(key);
    add(total, key, us);
  }
}

function print(title: string, map: Map<string, number>): void {
  console.log(`\n${title}`);
  const top = [...map].sort((a, b) => b[1] - a[1]).slice(0, rows);
  for (const [key, us] of top) {
    const per = divisor === undefined ? '' : `${(us / divisor).toFixed(0).padStart(7)} µs/unit  `;
    console.log(`${((100 * us) / busy).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(1).padStart(8)} ms  ${per}${key}`);
  }
}

console.log(`busy ${(busy / 1000).toFixed(1)} ms, idle ${(idle / 1000).toFixed(1)} ms${divisor === undefined ? '' : `; busy per unit ${(busy / divisor).toFixed(0)} µs`}`);
print('time by area', areas);
print('self time by place', places);
print('self time by function', self);
print('total time by function', total);
