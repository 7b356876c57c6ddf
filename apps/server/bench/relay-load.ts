/**
 * The relay benchmark's load: N streams through one relay, their starts spread evenly over a
 * window, each read on its own socket by a thin client that only looks for the emulator's send
 * stamps (`<epoch ms>|` inside each content delta) — it never decodes or parses the stream, so the
 * same client reads the provider's SSE and ours.
 *
 * Contract: `runLevel(target, streams, spreadMs)` resolves once every stream has ended, with each
 * stream's time to first body byte and the latency of each stamped delta (arrival here − stamp),
 * plus what the run cost: the relay process's CPU (from /proc) and its RSS growth at its peak
 * (sampled every 100 ms, minus the RSS before), this process's CPU and event-loop lateness (a load
 * generator that is late stamps arrivals late: that is not the relay's), and how busy the whole
 * machine was. A stream that fails is counted, not thrown.
 */
import { request, type IncomingMessage } from 'node:http';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { machineBusy, machineTimes, processCpuMicros, processRssBytes } from './proc-stats.ts';

export interface RelayTarget {
  readonly name: string;
  /** The relay's process (undefined for the direct path: there is none). */
  readonly pid: number | undefined;
  readonly url: string;
  readonly path: string;
  headers(stream: number): Record<string, string>;
  readonly body: string;
}

export interface LevelRun {
  readonly ttfbMs: number[];
  readonly latenciesMs: number[];
  readonly failed: number;
  readonly wallMs: number;
  readonly relayCpuMicros: number | undefined;
  readonly relayRssGrowthBytes: number | undefined;
  readonly loadGenCpuMicros: number;
  readonly loadGenLoopP99Ms: number;
  readonly machineBusy: number;
}

const epochMs = () => performance.timeOrigin + performance.now();
const STAMP = /(\d{13}\.\d{3})\|/g;
const LOOP_TICK_MS = 10;

interface StreamResult {
  ttfbMs: number;
  latenciesMs: number[];
}

/** A stream that has not ended this long after its start is given up and counted as failed. */
const STREAM_GIVE_UP_MS = 120_000;

function readStream(target: RelayTarget, index: number): Promise<StreamResult> {
  return new Promise((resolve, reject) => {
    const giveUp = setTimeout(() => {
      req.destroy();
      reject(new Error(`${target.name}: stream ${index} did not end within ${STREAM_GIVE_UP_MS} ms`));
    }, STREAM_GIVE_UP_MS);
    const startedAt = epochMs();
    let ttfbMs = Number.NaN;
    const latenciesMs: number[] = [];
    let seen = '';
    const req = request(new URL(target.path, target.url), {
      method: 'POST',
      agent: false,
      headers: { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(target.body)), ...target.headers(index) },
    });
    req.on('response', (res: IncomingMessage) => {
      if (res.statusCode !== 200) {
        res.resume();
        fail(new Error(`${target.name} answered ${res.statusCode}`));
        return;
      }
      res.on('data', (bytes: Buffer) => {
        const arrivedAt = epochMs();
        if (Number.isNaN(ttfbMs)) ttfbMs = arrivedAt - startedAt;
        seen += bytes.toString('latin1');
        STAMP.lastIndex = 0;
        let scanned = 0;
        for (let match = STAMP.exec(seen); match !== null; match = STAMP.exec(seen)) {
          latenciesMs.push(arrivedAt - Number(match[1]));
          scanned = STAMP.lastIndex;
        }
        // Keep only a tail that may hold the start of a stamp cut by the chunk's end.
        seen = seen.slice(Math.max(scanned, seen.length - 20));
      });
      res.on('end', () => {
        clearTimeout(giveUp);
        resolve({ ttfbMs, latenciesMs });
      });
      res.on('error', fail);
    });
    const fail = (error: unknown) => {
      clearTimeout(giveUp);
      reject(error);
    };
    req.on('error', fail);
    req.end(target.body);
  });
}

export async function runLevel(target: RelayTarget, streams: number, spreadMs: number): Promise<LevelRun> {
  const loop = monitorEventLoopDelay({ resolution: LOOP_TICK_MS });
  const rssBefore = target.pid === undefined ? 0 : processRssBytes(target.pid);
  let rssPeak = rssBefore;
  const sampler = setInterval(() => {
    if (target.pid !== undefined) rssPeak = Math.max(rssPeak, processRssBytes(target.pid));
  }, 100);
  const relayCpuBefore = target.pid === undefined ? 0 : processCpuMicros(target.pid);
  const ownCpuBefore = process.cpuUsage();
  const machineBefore = machineTimes();
  const began = performance.now();
  loop.enable();

  const ttfbMs: number[] = [];
  const latenciesMs: number[] = [];
  let failed = 0;
  await Promise.all(
    Array.from({ length: streams }, (_, index) =>
      new Promise<void>((resolve) => setTimeout(resolve, streams > 1 ? (index * spreadMs) / streams : 0))
        .then(() => readStream(target, index))
        .then(
          (result) => {
            ttfbMs.push(result.ttfbMs);
            for (const latency of result.latenciesMs) latenciesMs.push(latency);
          },
          () => {
            failed += 1;
          },
        ),
    ),
  );

  loop.disable();
  clearInterval(sampler);
  const wallMs = performance.now() - began;
  const ownCpu = process.cpuUsage(ownCpuBefore);
  return {
    ttfbMs,
    latenciesMs,
    failed,
    wallMs,
    relayCpuMicros: target.pid === undefined ? undefined : processCpuMicros(target.pid) - relayCpuBefore,
    relayRssGrowthBytes: target.pid === undefined ? undefined : rssPeak - rssBefore,
    loadGenCpuMicros: ownCpu.user + ownCpu.system,
    loadGenLoopP99Ms: Math.max(0, loop.percentile(99) / 1e6 - LOOP_TICK_MS),
    machineBusy: machineBusy(machineBefore, machineTimes()),
  };
}
