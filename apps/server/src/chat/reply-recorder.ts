/**
 * Writes a streaming reply to the store as it grows, so a partial reply is never lost.
 *
 * Contract: `observe(event)` takes every `reasoning` and `delta` event as it is sent and keeps the
 * reply's whole text and reasoning. A checkpoint (the whole text and reasoning so far — the store
 * replaces, never appends, so a repeated write is harmless) is written when `checkpointChars`
 * characters arrived since the last one, or `checkpointIntervalMs` after the first character that
 * is not yet written, whichever comes first: a fast reply costs a write per `checkpointChars`, a
 * slow one a write per interval, an idle one none. Checkpoints never overlap: while one is being
 * written, the next waits for it. `finish(patch)` stops checkpointing, waits for a write in
 * progress and writes the final state (text, reasoning and the patch's status, ending and usage)
 * — the store refuses any write after that one, so nothing can overwrite the final text.
 *
 * A checkpoint that fails is logged and retried with the next one: storage trouble must not break
 * the stream the user is reading. Once the store says the reply is gone (its conversation was
 * deleted meanwhile), checkpoints stop. Time comes from the injected clock.
 */
import type { ReplyEvent } from '@wxstream/protocol';
import type { Clock, TimerHandle } from '../clock.ts';
import type { Logger } from '../logger.ts';
import type { AssistantMessagePatch, ConversationStore, MessageRecord } from '../storage/conversation-store.ts';

export interface ReplyRecorderOptions {
  store: Pick<ConversationStore, 'updateAssistantMessage'>;
  messageId: string;
  clock: Clock;
  checkpointIntervalMs: number;
  checkpointChars: number;
  log: Logger;
}

export type FinalReplyPatch = Omit<AssistantMessagePatch, 'text' | 'reasoning'> & { readonly clearText?: boolean };

export interface ReplyRecorder {
  observe(event: ReplyEvent): void;
  /** Resolves with the stored message, or undefined when it no longer exists. */
  finish(patch: FinalReplyPatch): Promise<MessageRecord | undefined>;
  readonly text: string;
  readonly reasoning: string;
  /** Checkpoints written so far (for tests and logs). */
  readonly checkpoints: number;
}

export function createReplyRecorder(options: ReplyRecorderOptions): ReplyRecorder {
  const { clock, store, messageId, log } = options;
  let text = '';
  let reasoning = '';
  /** Characters received since the last checkpoint started. */
  let unsaved = 0;
  let timer: TimerHandle | undefined;
  /** The checkpoint being written, if any. */
  let writing: Promise<void> | undefined;
  let finished = false;
  let gone = false;
  let checkpoints = 0;

  const disarm = () => {
    if (timer !== undefined) clock.clearTimeout(timer);
    timer = undefined;
  };

  const checkpoint = (): void => {
    disarm();
    if (finished || gone || unsaved === 0) return;
    if (writing !== undefined) {
      // The write in progress ends by looking at `unsaved` again.
      return;
    }
    unsaved = 0;
    checkpoints += 1;
    writing = store
      .updateAssistantMessage(messageId, { text, reasoning })
      .then(
        (stored) => {
          if (stored === undefined) gone = true;
        },
        (error: unknown) => {
          log.warn({ err: error }, 'could not checkpoint the reply; retrying with the next checkpoint');
        },
      )
      .finally(() => {
        writing = undefined;
        if (unsaved >= options.checkpointChars) checkpoint();
        else if (unsaved > 0) arm();
      });
  };

  const arm = () => {
    if (timer === undefined && !finished) timer = clock.setTimeout(checkpoint, options.checkpointIntervalMs);
  };

  return {
    observe(event) {
      if (finished || gone) return;
      if (event.type === 'reasoning') reasoning += event.data.text;
      else if (event.type === 'delta') text += event.data.text;
      else return;
      unsaved += event.data.text.length;
      if (unsaved >= options.checkpointChars) checkpoint();
      else arm();
    },

    async finish(patch) {
      finished = true;
      disarm();
      while (writing !== undefined) await writing;
      const { clearText, ...rest } = patch;
      return store.updateAssistantMessage(messageId, { ...rest, text: clearText === true ? '' : text, reasoning: clearText === true ? '' : reasoning });
    },

    get text() {
      return text;
    },
    get reasoning() {
      return reasoning;
    },
    get checkpoints() {
      return checkpoints;
    },
  };
}
