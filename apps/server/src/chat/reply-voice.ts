/**
 * Speaks one reply while it is written: the answer's deltas go into its `VoiceReply`, and each
 * spoken (or skipped) segment goes back into the same reply as an `audio` event.
 *
 * Contract:
 * - `observe(event)` takes every event the reply writes; only `delta` text is spoken (reasoning,
 *   usage and the rest are not).
 * - Segments are written through the reply's writer in index order as soon as each is ready, so
 *   they interleave with the text they speak.
 * - `finish(ending)` is called before the terminal event: for a `done` reply that was not stopped
 *   the rest of the text is spoken and it resolves after the last `audio` event was written; for
 *   anything else (error, stopped) the voice is cancelled and it resolves at once. A provider that
 *   hangs must not hold the reply's end hostage: when the last segments are not written within
 *   `finishTimeoutMs` (on the injected clock) the voice is cancelled and the reply ends without
 *   them — the client's player simply ends with the last segment it got. Either way no
 *   `audio` event can follow the terminal one. Aborting the reply's signal (stop, shutdown, a
 *   client that left with CONTINUE_ON_DISCONNECT off) cancels the syntheses in flight.
 * - `close()` cancels whatever is left; idempotent, safe after `finish`.
 */
import type { AudioData, ReplyEvent } from '@wxstream/protocol';
import type { Clock } from '../clock.ts';
import type { Logger } from '../logger.ts';
import type { VoiceSegmentResult, VoiceReply } from '../voice/voice-reply.ts';
import type { ReplyEnding, ReplyWriter } from './reply-writer.ts';

export interface ReplyVoice {
  observe(event: ReplyEvent): void;
  finish(ending: ReplyEnding): Promise<void>;
  close(): void;
}

export interface ReplyVoiceOptions {
  voice: VoiceReply;
  writer: Pick<ReplyWriter, 'audio'>;
  log: Logger;
  clock: Clock;
  finishTimeoutMs: number;
  /** Each segment as it is written, for metrics. */
  onSegment?: (segment: VoiceSegmentResult) => void;
}

export function audioEventData(segment: VoiceSegmentResult): AudioData {
  if (segment.skipped) return { index: segment.index, skipped: true, code: segment.code, text: segment.text };
  return {
    index: segment.index,
    url: segment.url,
    text: segment.text,
    format: segment.format,
    ...(segment.durationMs === undefined ? {} : { durationMs: Math.round(segment.durationMs) }),
  };
}

export function speakReply(options: ReplyVoiceOptions): ReplyVoice {
  const { voice, writer, log } = options;
  let closed = false;
  const written = (async () => {
    for await (const segment of voice) {
      if (closed) return;
      writer.audio(audioEventData(segment));
      options.onSegment?.(segment);
    }
  })().catch((error: unknown) => {
    // The voice must never take the text down with it.
    log.error({ err: error }, 'the voice of a reply failed; the text goes on unspoken');
    voice.stop(error);
  });

  const close = () => {
    if (closed) return;
    closed = true;
    voice.stop();
  };

  return {
    observe(event) {
      if (event.type === 'delta') voice.push(event.data.text);
    },
    async finish(ending) {
      if (ending.type !== 'done' || ending.data.finishReason === 'stopped') {
        close();
        await written;
        return;
      }
      voice.end();
      const timer = options.clock.setTimeout(() => {
        log.warn({ finishTimeoutMs: options.finishTimeoutMs }, 'the last voice segments took too long; the reply ends without them');
        close();
      }, options.finishTimeoutMs);
      await written;
      options.clock.clearTimeout(timer);
      closed = true;
    },
    close,
  };
}
