/**
 * The producer side of a reply: numbers its events (`ReplySequencer`) and appends each to the reply
 * log, which every reader — the POST response itself, and any resume — streams from.
 *
 * Contract: implements `ReplyWriter`, so the relay does not know where events go. Every event is
 * shown to `onEvent` (recorder, content guard) and appended in order; appends are issued without
 * awaiting each other (the log applies them in call order). `reasoning`/`delta` return false while
 * `maxPendingAppends` appends are outstanding and `drained` waits for them: a slow log slows the
 * producer instead of piling appends up in memory. The client's pace never matters here — the log
 * is the buffer. `end` appends the optional usage and the terminal event once. `abandon` (the client
 * left and CONTINUE_ON_DISCONNECT is off) ends the log with `done {"finishReason":"stopped"}` so a
 * reader following it is not left waiting. A failed append is reported once to `onAppendFailed`
 * (the caller ends the reply); later non-terminal events are then not appended, the terminal still
 * is (the log accepts it even when full): it waits for the appends before it and, after a refusal,
 * takes the id after the last event the log accepted, so the log's ids stay gapless.
 * `settled()` resolves once every append has been answered.
 */
import type { ReplyEvent } from '@wxstream/protocol';
import type { ReplyLog } from '../reply-log/reply-log.ts';
import type { ReplyWriter } from './reply-writer.ts';
import { ReplySequencer } from './reply-sequencer.ts';

export interface ReplyLogWriterOptions {
  log: ReplyLog;
  replyId: string;
  onEvent?: (event: ReplyEvent) => void;
  /** The first append the log refused or could not take; the reply should end now. */
  onAppendFailed: (error: unknown) => void;
  maxPendingAppends?: number;
}

export interface ReplyLogWriter extends ReplyWriter {
  settled(): Promise<void>;
}

const DEFAULT_MAX_PENDING_APPENDS = 64;

export function createReplyLogWriter(options: ReplyLogWriterOptions): ReplyLogWriter {
  const { log, replyId } = options;
  const maxPending = options.maxPendingAppends ?? DEFAULT_MAX_PENDING_APPENDS;
  const sequencer = new ReplySequencer();
  const pending = new Set<Promise<void>>();
  let roomWaiters: Array<() => void> = [];
  let failed = false;
  /** Id of the last event the log accepted. */
  let acceptedId = 0;

  const wakeRoomWaiters = () => {
    const waiters = roomWaiters;
    roomWaiters = [];
    for (const wake of waiters) wake();
  };

  const send = async (event: ReplyEvent): Promise<void> => {
    if (event.type !== 'done' && event.type !== 'error') return log.append(replyId, event);
    // Called before this append joins `pending`: waits for exactly the appends issued before it.
    await Promise.all([...pending]);
    return log.append(replyId, failed ? { ...event, id: acceptedId + 1 } : event);
  };

  const append = (event: ReplyEvent | undefined): boolean => {
    if (event === undefined) return true;
    const terminal = event.type === 'done' || event.type === 'error';
    if (failed && !terminal) return true;
    options.onEvent?.(event);
    const appended: Promise<void> = send(event).then(
      () => {
        acceptedId = Math.max(acceptedId, event.id);
      },
      (error: unknown) => {
        if (failed) return;
        failed = true;
        options.onAppendFailed(error);
      },
    );
    pending.add(appended);
    void appended.finally(() => {
      pending.delete(appended);
      if (pending.size < maxPending) wakeRoomWaiters();
    });
    return pending.size < maxPending;
  };

  return {
    start: (data) => append(sequencer.start(data)),
    reasoning: (text) => append(sequencer.reasoning(text)),
    delta: (text) => append(sequencer.delta(text)),
    audio: (data) => {
      append(sequencer.audio(data));
    },
    suggestions: (data) => {
      append(sequencer.suggestions(data));
    },

    end(ending, usage) {
      if (sequencer.ended) return false;
      if (usage !== undefined) append(sequencer.usage(usage));
      append(ending.type === 'done' ? sequencer.done(ending.data) : sequencer.error(ending.data));
      return true;
    },

    abandon() {
      if (!sequencer.ended && sequencer.started) append(sequencer.done({ finishReason: 'stopped' }));
    },

    drained(signal) {
      if (pending.size < maxPending || signal.aborted) return Promise.resolve();
      return new Promise((resolve) => {
        const settle = () => {
          signal.removeEventListener('abort', settle);
          roomWaiters = roomWaiters.filter((waiter) => waiter !== settle);
          resolve();
        };
        roomWaiters.push(settle);
        signal.addEventListener('abort', settle, { once: true });
      });
    },

    async settled() {
      while (pending.size > 0) await Promise.all([...pending]);
    },

    get ended() {
      return sequencer.ended;
    },
    get eventCount() {
      return sequencer.count;
    },
  };
}
