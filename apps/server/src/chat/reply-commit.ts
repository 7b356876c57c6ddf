/**
 * Commit — the third phase of `POST /api/chat`: the turn is stored and the provider is streaming,
 * so from here on the reply exists; every failure travels in-band as its one terminal event.
 *
 * Contract: marks the run committed (a client that leaves now no longer stops the reply unless
 * `continueOnDisconnect` is off), and builds what the reply is written through: the recorder that
 * checkpoints it to the store (`reply-recorder.ts`), the writer that numbers its events and appends
 * them to the reply log (`reply-log-writer.ts`), which shows every event to the first-token metric,
 * the recorder, the content guard and the voice; writes the `start` event; and, for a voice reply
 * that can be spoken here, starts speaking it (`reply-voice.ts`). A log that refuses an event ends
 * the reply with `internal_error`.
 */
import { WxstreamError } from '@wxstream/protocol';
import { ReplyLogWriteError } from '../reply-log/reply-log.ts';
import type { ChatRouteDeps } from './chat-deps.ts';
import type { PreparedReply } from './reply-preparation.ts';
import { createReplyLogWriter, type ReplyLogWriter } from './reply-log-writer.ts';
import { createReplyRecorder, type ReplyRecorder } from './reply-recorder.ts';
import { speakReply, type ReplyVoice } from './reply-voice.ts';

export interface CommittedReply extends PreparedReply {
  readonly recorder: ReplyRecorder;
  readonly writer: ReplyLogWriter;
  readonly voice: ReplyVoice | undefined;
}

export function commitReply(deps: ChatRouteDeps, prepared: PreparedReply): CommittedReply {
  const { settings } = deps;
  const { run, turn, tracker, log, request, speaker } = prepared;
  run.commit();
  const recorder = createReplyRecorder({
    store: deps.store,
    messageId: turn.reply.id,
    clock: deps.clock,
    checkpointIntervalMs: settings.checkpointIntervalMs,
    checkpointChars: settings.checkpointChars,
    log,
  });
  let voice: ReplyVoice | undefined;
  const writer = createReplyLogWriter({
    log: deps.replyLog,
    replyId: turn.reply.id,
    onEvent: (event) => {
      if (event.type === 'reasoning' || event.type === 'delta') tracker.firstToken();
      recorder.observe(event);
      run.guard.observe(event);
      voice?.observe(event);
    },
    onAppendFailed: (error) => {
      log.error({ err: error }, 'the reply log refused an event; ending the reply');
      const full = error instanceof ReplyLogWriteError && error.reason === 'full';
      run.abort(new WxstreamError('internal_error', full ? 'The reply reached REPLY_LOG_MAX_EVENTS' : 'The reply log failed'));
    },
  });
  writer.start({
    conversationId: turn.conversationId,
    messageId: turn.reply.id,
    userMessageId: turn.userMessage.id,
    model: prepared.answeredBy,
    ...(request.voice === true ? { voice: speaker !== undefined } : {}),
  });
  if (speaker !== undefined) {
    voice = speakReply({
      voice: speaker.open({ voiceName: request.voiceName, signal: run.signal, log }),
      writer,
      log,
      clock: deps.clock,
      finishTimeoutMs: speaker.finishTimeoutMs,
      onSegment: (segment) => deps.metrics.voiceSegment(segment.skipped ? segment.code : 'spoken'),
    });
  }
  return { ...prepared, recorder, writer, voice };
}
