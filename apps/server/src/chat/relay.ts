/**
 * Relays an upstream chunk stream into a reply, deciding how the reply ends.
 *
 * Contract: resolves (never rejects) once the reply has ended, with the outcome for the log.
 * Reasoning and content are written as they arrive; usage is the LAST value seen (providers repeat
 * cumulative usage, so summing would double-count) and is sent once, just before the terminal
 * event. The ending is decided in this order:
 *   1. `signal` aborted with `ClientClosed` → `writer.abandon()` (nobody is reading);
 *   2. the provider already sent a finish reason → `done` (a stall or error after the model
 *      finished does not spoil a complete answer);
 *   2b. `signal` aborted with `ReplyStopped` (the user's stop) → `done {"finishReason":"stopped"}`;
 *   3. `signal` aborted with a `WxstreamError` (idle timeout, shutdown) → that error, in-band;
 *   4. the iteration threw → `failure(error)` (`upstream_error` with a redacted message);
 *   5. the stream ended without a finish reason → `upstream_error`: a truncated answer must not
 *      look complete.
 * Before the terminal event is written, `beforeEnd` (when given) gets the ending and the usage and
 * resolves with the ending to send: it may replace it (the content check's last word, which may
 * still be waiting for verdicts) and store it, so a client that has seen the terminal event finds
 * the reply stored that way. Heartbeats keep flowing while it works; a client that leaves
 * meanwhile still gets nothing more written.
 * The idle watchdog is touched on every chunk and paused while a slow client drains.
 */
import { WxstreamError, type UsageData, type WireError } from '@wxstream/protocol';
import type { UpstreamChunk } from '../upstream/upstream-model.ts';
import type { IdleWatchdog } from './idle-watchdog.ts';
import type { ReplyEnding, ReplyWriter } from './reply-writer.ts';
import { readChunk } from './upstream-chunk.ts';

/** Abort reason when the client went away; distinct from errors we must report in-band. */
export class ClientClosed extends Error {
  constructor() {
    super('The client closed the connection');
    this.name = 'ClientClosed';
  }
}

/** Abort reason when the user stopped the reply: it ends as `done` with finish reason `stopped`. */
export class ReplyStopped extends Error {
  constructor() {
    super('The user stopped the reply');
    this.name = 'ReplyStopped';
  }
}

export type RelayOutcome =
  | { kind: 'done'; finishReason: string; usage: UsageData | undefined }
  | { kind: 'error'; error: WireError; usage: UsageData | undefined }
  | { kind: 'client_closed'; usage: UsageData | undefined };

export interface RelayOptions {
  chunks: AsyncIterable<UpstreamChunk>;
  writer: ReplyWriter;
  signal: AbortSignal;
  watchdog: IdleWatchdog;
  /** Maps an error thrown by the iteration to the error the client sees. */
  failure: (error: unknown) => WxstreamError;
  /** Decides (and may record) the ending finally; must not reject. */
  beforeEnd?: (ending: ReplyEnding, usage: UsageData | undefined) => Promise<ReplyEnding>;
}

export async function relayReply(options: RelayOptions): Promise<RelayOutcome> {
  const { writer, signal, watchdog } = options;
  let usage: UsageData | undefined;
  let finishReason: string | undefined;
  let failed: { error: unknown } | undefined;

  watchdog.touch();
  try {
    for await (const chunk of options.chunks) {
      if (signal.aborted) break;
      watchdog.touch();
      const parts = readChunk(chunk);
      if (parts.usage !== undefined) usage = parts.usage;
      if (parts.finishReason !== undefined) finishReason = parts.finishReason;
      const reasoningFlowed = writer.reasoning(parts.reasoning);
      const contentFlowed = writer.delta(parts.content);
      if (!reasoningFlowed || !contentFlowed) {
        watchdog.pause();
        await writer.drained(signal);
        watchdog.touch();
      }
    }
  } catch (error) {
    failed = { error };
  } finally {
    watchdog.stop();
  }

  const clientGone = () => signal.aborted && signal.reason instanceof ClientClosed;
  const errorEnding = (error: WxstreamError): ReplyEnding => ({ type: 'error', data: error.toWire() });

  if (clientGone()) {
    writer.abandon();
    return { kind: 'client_closed', usage };
  }
  let ending: ReplyEnding;
  if (finishReason !== undefined) {
    ending = { type: 'done', data: { finishReason } };
  } else if (signal.aborted && signal.reason instanceof ReplyStopped) {
    ending = { type: 'done', data: { finishReason: 'stopped' } };
  } else if (signal.aborted) {
    const reason: unknown = signal.reason;
    ending = errorEnding(reason instanceof WxstreamError ? reason : new WxstreamError('internal_error', 'The reply was aborted'));
  } else if (failed !== undefined) {
    ending = errorEnding(options.failure(failed.error));
  } else {
    ending = errorEnding(new WxstreamError('upstream_error', 'The model stream ended before the model finished its answer'));
  }
  if (options.beforeEnd !== undefined) {
    ending = await options.beforeEnd(ending, usage);
    if (clientGone()) {
      writer.abandon();
      return { kind: 'client_closed', usage };
    }
  }
  writer.end(ending, usage);
  return outcomeOf(ending, usage);
}

export function outcomeOf(ending: ReplyEnding, usage: UsageData | undefined): RelayOutcome {
  return ending.type === 'done'
    ? { kind: 'done', finishReason: ending.data.finishReason, usage }
    : { kind: 'error', error: ending.data, usage };
}
