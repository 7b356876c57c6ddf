/**
 * What the relay writes a reply through: the producer's side of one reply, whatever it writes to.
 *
 * Contract: `start` first; `reasoning`/`delta` return false when the writer wants the producer to
 * pause, and `drained(signal)` resolves once it may go on (or `signal` aborts). `end` writes the
 * optional usage event and exactly one terminal event, and makes every later call a no-op: whatever
 * races to finish the reply (the stream's end, the idle watchdog, a stop, a shutdown), only the
 * first terminal counts — it returns true for that call only. `abandon` is for a reply whose reader
 * is gone and that is aborted for it. The implementation is `reply-log-writer.ts`: every reply is
 * written to its reply log, and responses read from there (`reply-log-stream.ts`).
 */
import type { AudioData, DoneData, StartData, SuggestionsData, UsageData, WireError } from '@wxstream/protocol';

export type ReplyEnding = { type: 'done'; data: DoneData } | { type: 'error'; data: WireError };

export interface ReplyWriter {
  start(data: StartData): boolean;
  reasoning(text: string): boolean;
  delta(text: string): boolean;
  /** One spoken segment (voice replies); never paces the producer, the voice queue bounds itself. */
  audio(data: AudioData): void;
  /** Follow-up questions, once, just before the reply ends (none when `items` is empty). */
  suggestions(data: SuggestionsData): void;
  /** Ends the reply; true when this call wrote the terminal event (false if it had already ended). */
  end(ending: ReplyEnding, usage?: UsageData): boolean;
  abandon(): void;
  /** Resolves once the writer can take more (or `signal` aborts). */
  drained(signal: AbortSignal): Promise<void>;
  readonly ended: boolean;
  /** Events written so far. */
  readonly eventCount: number;
}
