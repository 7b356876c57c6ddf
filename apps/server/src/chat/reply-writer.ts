/**
 * Writes one reply as SSE frames to a byte sink, with heartbeats, exactly one terminal event.
 *
 * Contract: every event is one `write` of one complete frame (`formatSseEvent`), so a heartbeat —
 * itself one write of `SSE_HEARTBEAT` — can only ever land between events. Every write restarts
 * the heartbeat countdown, so a ping goes out only after `heartbeatIntervalMs` of silence. `end`
 * writes the optional usage event and the terminal event in a single write, ends the sink and
 * makes every later call a no-op: whatever races to finish the reply (the stream's end, the idle
 * watchdog, a shutdown), only the first terminal reaches the client. `abandon` is for a sink whose
 * reader is gone: timers stop, nothing more is written.
 *
 * `onEvent`, when given, sees every event as it is written (never one the sink no longer takes), so
 * whoever records or checks the reply sees exactly what the client was sent.
 *
 * Writes go to the sink immediately (Node's HTTP response sends each chunk on its own with
 * `setNoDelay`); `write` returns false when the sink's buffer is full so the caller can pause.
 */
import type { Writable } from 'node:stream';
import { SSE_HEARTBEAT, formatSseEvent, type DoneData, type ReplyEvent, type StartData, type UsageData, type WireError } from '@wxstream/protocol';
import type { Clock, TimerHandle } from '../clock.ts';
import { ReplySequencer } from './reply-sequencer.ts';

export type ReplyEnding = { type: 'done'; data: DoneData } | { type: 'error'; data: WireError };

export interface ReplyWriter {
  start(data: StartData): boolean;
  reasoning(text: string): boolean;
  delta(text: string): boolean;
  /** Ends the reply; true when this call wrote the terminal event (false if it had already ended). */
  end(ending: ReplyEnding, usage?: UsageData): boolean;
  abandon(): void;
  /** Resolves once the sink can take more (or is gone, or `signal` aborts). */
  drained(signal: AbortSignal): Promise<void>;
  readonly ended: boolean;
  /** Events written so far (heartbeats are not events). */
  readonly eventCount: number;
}

export interface ReplyWriterOptions {
  sink: Writable;
  clock: Clock;
  heartbeatIntervalMs: number;
  onEvent?: (event: ReplyEvent) => void;
}

export function createReplyWriter(options: ReplyWriterOptions): ReplyWriter {
  const { sink, clock } = options;
  const sequencer = new ReplySequencer();
  let heartbeat: TimerHandle | undefined;
  let lastWrite = 0;
  let stopped = false;

  const sinkGone = () => sink.destroyed || sink.writableEnded;

  const stopHeartbeat = () => {
    if (heartbeat !== undefined) clock.clearTimeout(heartbeat);
    heartbeat = undefined;
  };

  // One timer per reply, re-armed lazily: a write only records its time, and the timer, when it
  // fires, pings only if the sink has really been silent for the whole interval.
  const onHeartbeatDue = () => {
    heartbeat = undefined;
    if (stopped || sinkGone()) return;
    const silentFor = clock.now() - lastWrite;
    if (silentFor < options.heartbeatIntervalMs) {
      heartbeat = clock.setTimeout(onHeartbeatDue, options.heartbeatIntervalMs - silentFor);
      return;
    }
    sink.write(SSE_HEARTBEAT);
    lastWrite = clock.now();
    heartbeat = clock.setTimeout(onHeartbeatDue, options.heartbeatIntervalMs);
  };

  const write = (text: string): boolean => {
    if (stopped || sinkGone()) return true;
    const ok = sink.write(text);
    lastWrite = clock.now();
    if (heartbeat === undefined) heartbeat = clock.setTimeout(onHeartbeatDue, options.heartbeatIntervalMs);
    return ok;
  };

  const writeEvent = (event: ReplyEvent | undefined): boolean => {
    if (event === undefined || stopped || sinkGone()) return true;
    options.onEvent?.(event);
    return write(formatSseEvent(event));
  };

  return {
    start: (data) => writeEvent(sequencer.start(data)),
    reasoning: (text) => writeEvent(sequencer.reasoning(text)),
    delta: (text) => writeEvent(sequencer.delta(text)),

    end(ending, usage) {
      if (sequencer.ended) return false;
      const usageEvent = usage === undefined ? undefined : sequencer.usage(usage);
      const terminal = ending.type === 'done' ? sequencer.done(ending.data) : sequencer.error(ending.data);
      const events = [usageEvent, terminal].flatMap((event) => (event === undefined ? [] : [event]));
      if (!stopped && !sinkGone()) for (const event of events) options.onEvent?.(event);
      write(events.map(formatSseEvent).join(''));
      stopped = true;
      stopHeartbeat();
      if (!sinkGone()) sink.end();
      return true;
    },

    abandon() {
      stopped = true;
      stopHeartbeat();
    },

    drained(signal) {
      if (!sink.writableNeedDrain || sinkGone() || signal.aborted) return Promise.resolve();
      return new Promise((resolve) => {
        const settle = () => {
          sink.off('drain', settle);
          sink.off('close', settle);
          signal.removeEventListener('abort', settle);
          resolve();
        };
        sink.once('drain', settle);
        sink.once('close', settle);
        signal.addEventListener('abort', settle, { once: true });
      });
    },

    get ended() {
      return sequencer.ended;
    },
    get eventCount() {
      return sequencer.count;
    },
  };
}
