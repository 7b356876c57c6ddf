/**
 * The soak's client: one reply from `POST /api/chat` to its terminal event, cut at seeded random
 * points and resumed with `GET /api/chat/:messageId/events` + `Last-Event-ID`, its text reassembled
 * and checked against what the emulator sent.
 *
 * Contract: `runReply` adds what it saw to the `SoakTotals` it is given and answers false when the
 * start was refused (409 while the same user's previous reply is still releasing its lock). Text
 * lost is what the id-ordered reassembly lacks against `EXPECTED_TEXT`; text duplicated is any
 * delta whose id arrived a second time. A live delta's latency is its arrival minus its emulator
 * send stamp translated to this process's clock (`clockOffsetMs`: emulator epoch clock minus ours);
 * a replayed delta — sent before the connection asking for it opened — is not latency, and only
 * deltas arriving while `target.measuring` is set are timed.
 *
 * Why the client is thin: on two cores, a load generator that validated every event as the real
 * client does competed with the server for CPU and its own event-loop delay showed up as the
 * server's latency. It frames with `SseFrameSplitter` and parses JSON only for `start` and `delta`.
 */
import { request, type IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SeededRandom } from '../../../packages/client/test/support/seeded-random.ts';
import { SseFrameSplitter, type SseFrame } from './sse-frames.ts';

export const DELTAS_PER_REPLY = 30;
export const DELTA_INTERVAL_MS = 100;
export const EXPECTED_TEXT = Array.from({ length: DELTAS_PER_REPLY }, (_, index) => `token${index} `).join('');
/** Chance that any one connection (first or resumed) is cut before its end. */
export const CUT_CHANCE = 0.4;
/** Chance that a client waits before resuming, and the longest wait. */
export const RESUME_DELAY_CHANCE = 0.3;
export const RESUME_DELAY_MAX_MS = 1500;
/** A reply not finished this long after its start is counted unfinished and given up. */
const REPLY_GIVE_UP_MS = 20_000;
const STAMP = /^(\d{13}\.\d{3})\|/;

export const epochMs = () => performance.timeOrigin + performance.now();

export interface SoakTotals {
  started: number;
  completed: number;
  endedInError: number;
  unfinished: number;
  refusedStarts: number;
  connections: number;
  cuts: number;
  resumes: number;
  delayedResumes: number;
  lostChars: number;
  duplicatedChars: number;
  mismatchedReplies: number;
  /** Every live delta timed. */
  latenciesMs: number[];
  /**
   * Live deltas the emulator sent after their connection had delivered its first event: relaying
   * on an open stream, without the wait for a resume request to be served (which `latenciesMs`
   * also holds, for deltas sent while that request queued).
   */
  flowingLatenciesMs: number[];
}

export function newTotals(): SoakTotals {
  return { started: 0, completed: 0, endedInError: 0, unfinished: 0, refusedStarts: 0, connections: 0, cuts: 0, resumes: 0, delayedResumes: 0, lostChars: 0, duplicatedChars: 0, mismatchedReplies: 0, latenciesMs: [], flowingLatenciesMs: [] };
}

/** Everything one reply's reader knows, across all its connections. */
interface ReplyState {
  messageId: string | undefined;
  lastId: number;
  /** Delta text by event id, stamp stripped. */
  readonly deltas: Map<number, string>;
  duplicatedChars: number;
  terminal: 'done' | 'error' | undefined;
}

type ConnectionEnd = 'ended' | 'cut' | 'refused';

export interface SoakTarget {
  readonly url: string;
  readonly clockOffsetMs: number;
  readonly totals: SoakTotals;
  /** Latencies are kept only while this is true: the steady window, not ramp-up or wind-down. */
  measuring: boolean;
}

/** One connection of a reply; destroys it after `cutAfter` events when given. */
function readConnection(target: SoakTarget, path: string, method: 'POST' | 'GET', headers: Record<string, string>, body: string | undefined, state: ReplyState, cutAfter: number | undefined): Promise<ConnectionEnd> {
  return new Promise((resolve) => {
    const times = { openedAt: epochMs(), flowingSince: Number.POSITIVE_INFINITY };
    const frames = new SseFrameSplitter();
    let settled = false;
    let seen = 0;
    const finish = (end: ConnectionEnd) => {
      if (settled) return;
      settled = true;
      resolve(end);
    };
    const req = request(new URL(path, target.url), {
      method,
      agent: false,
      headers: body === undefined ? headers : { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)), ...headers },
    });
    target.totals.connections += 1;
    req.on('response', (res: IncomingMessage) => {
      if (res.statusCode !== 200) {
        res.resume();
        res.on('end', () => finish('refused'));
        return;
      }
      // StringDecoder underneath: a character split across chunks is carried over, not mangled.
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (settled) return;
        const arrivedAt = epochMs();
        for (const frame of frames.feed(chunk)) {
          absorb(frame, state, times, arrivedAt, target);
          times.flowingSince = Math.min(times.flowingSince, arrivedAt);
          seen += 1;
          if (state.terminal !== undefined) return;
          if (cutAfter !== undefined && seen >= cutAfter) {
            target.totals.cuts += 1;
            req.destroy();
            finish('cut');
            return;
          }
        }
      });
      res.on('end', () => finish('ended'));
      res.on('error', () => finish('cut'));
    });
    req.on('error', () => finish('cut'));
    req.end(body);
  });
}

/** When a connection was opened, and when its first event arrived (infinity until then). */
interface ConnectionTimes {
  readonly openedAt: number;
  flowingSince: number;
}

function absorb(frame: SseFrame, state: ReplyState, times: ConnectionTimes, arrivedAt: number, target: SoakTarget): void {
  if (frame.id <= state.lastId) {
    if (frame.event === 'delta') state.duplicatedChars += textOf(frame).length;
    return;
  }
  state.lastId = frame.id;
  if (frame.event === 'start') state.messageId = (JSON.parse(frame.data) as { messageId: string }).messageId;
  else if (frame.event === 'delta') {
    const raw = (JSON.parse(frame.data) as { text: string }).text;
    const stamp = STAMP.exec(raw)?.[1];
    if (stamp !== undefined) {
      const sentAt = Number(stamp) - target.clockOffsetMs;
      if (target.measuring && sentAt >= times.openedAt) {
        target.totals.latenciesMs.push(arrivedAt - sentAt);
        if (sentAt >= times.flowingSince) target.totals.flowingLatenciesMs.push(arrivedAt - sentAt);
      }
    }
    state.deltas.set(frame.id, raw.replace(STAMP, ''));
  } else if (frame.event === 'done' || frame.event === 'error') state.terminal = frame.event;
}

function textOf(frame: SseFrame): string {
  return (JSON.parse(frame.data) as { text: string }).text.replace(STAMP, '');
}

/** One reply from start to terminal event, with seeded cuts and resumes. Answers false when the start was refused. */
export async function runReply(target: SoakTarget, token: string, random: SeededRandom): Promise<boolean> {
  const totals = target.totals;
  const auth = { Authorization: `Bearer ${token}` };
  const state: ReplyState = { messageId: undefined, lastId: 0, deltas: new Map(), duplicatedChars: 0, terminal: undefined };
  const cutPoint = () => (random.chance(CUT_CHANCE) ? random.range(1, DELTAS_PER_REPLY + 2) : undefined);
  const first = await readConnection(target, '/api/chat', 'POST', auth, '{"message":"soak"}', state, cutPoint());
  if (first === 'refused') {
    totals.refusedStarts += 1;
    return false;
  }
  totals.started += 1;
  const startedAt = performance.now();
  while (state.terminal === undefined && state.messageId !== undefined && performance.now() - startedAt < REPLY_GIVE_UP_MS) {
    if (random.chance(RESUME_DELAY_CHANCE)) {
      totals.delayedResumes += 1;
      await sleep(random.range(50, RESUME_DELAY_MAX_MS));
    }
    totals.resumes += 1;
    const end = await readConnection(target, `/api/chat/${state.messageId}/events`, 'GET', { ...auth, 'Last-Event-ID': String(state.lastId) }, undefined, state, cutPoint());
    if (end === 'refused') await sleep(50);
  }
  if (state.terminal === 'done') {
    totals.completed += 1;
    const text = [...state.deltas.entries()].sort((a, b) => a[0] - b[0]).map((entry) => entry[1]).join('');
    if (text !== EXPECTED_TEXT) totals.mismatchedReplies += 1;
    // Missing ids leave holes in the id-ordered text: whatever length is short was lost.
    totals.lostChars += Math.max(0, EXPECTED_TEXT.length - text.length);
  } else if (state.terminal === 'error') totals.endedInError += 1;
  else totals.unfinished += 1;
  totals.duplicatedChars += state.duplicatedChars;
  return true;
}
