/**
 * `POST /api/chat`: admits the request, prepares the turn, opens the upstream stream, then streams
 * the reply while storing and checking it.
 *
 * Before the stream (each failure is a JSON error, and nothing is stored):
 *   1. the body is read and validated;
 *   2. limits: rate, daily quota, one reply in progress per user (`admitReply`, 429/409);
 *   3. the conversation to continue is read (404 for another user's or an unknown one) and must
 *      have room for the turn (409 `conversation_too_long`);
 *   4. the user's text goes through the content check (422 `content_blocked`, nothing is sent
 *      upstream);
 *   5. the upstream call is opened with the context window (system prompt, the history trimmed
 *      newest-first to the token budget, the new message), and we wait for the provider's response
 *      headers before committing our own 200 — so a provider refusal is a JSON error with a
 *      fitting status; the cost is only the provider's time to headers;
 *   6. the turn is stored: the conversation (new ones are titled from the message), the user's
 *      message, the reply as `streaming`; the reply's id is the `start` event's `messageId`.
 * From the 200 on, every failure travels in-band as one `error` event written by the relay, and the
 * reply is checkpointed to the store as it streams (`reply-recorder.ts`) and checked in segments
 * in the background (`reply-content-guard.ts`): a risky segment aborts the upstream call at once
 * and the reply ends in `content_blocked`; the final event waits for the last verdicts. The reply
 * ends stored with its status (`reply-conclusion.ts`), its usage (the provider's, or an estimate
 * when it sent none) counted against the daily quota, and its metrics — before its terminal event
 * is sent, so a client that saw `done` and reads the conversation finds the reply complete.
 *
 * Every event goes to the reply log (`reply-log-writer.ts`), and the response is just the log's
 * first reader (`reply-log-stream.ts`) — the same code path that serves a resume from
 * `Last-Event-ID` — so the response never buffers more than its sink holds, and a client that lost
 * its connection can continue from any instance. The reply's log is created, and its owner recorded,
 * before the 200.
 *
 * The upstream call is aborted when the idle watchdog fires (`upstream_timeout`), a content check
 * stops the reply, the user stops it (`POST /api/chat/:messageId/stop` → `done` `stopped`, stored
 * `stopped`), shutdown interrupts it (`server_shutdown`), or the client's connection closes before
 * the 200 (nobody knows the reply's id yet, so nobody could resume it). A connection that closes
 * after the 200 does NOT stop the reply unless `continueOnDisconnect` is off: it is generated to its
 * end and stored, and the client resumes it or finds it in the conversation. The reply's lease is renewed while it runs and released, and the reply
 * unregistered from the in-flight registry, only once its final state is stored — so a shutdown
 * that waits for the registry closes the store after every reply was written.
 */
import { PassThrough } from 'node:stream';
import type { Middleware } from 'koa';
import { PROTOCOL_HEADER, PROTOCOL_VERSION, STREAM_HEADERS, WxstreamError, type UsageData } from '@wxstream/protocol';
import { ReplyLogWriteError, type ReplyLog } from '../reply-log/reply-log.ts';
import type { AppState, AuthenticatedUser } from '../app-state.ts';
import type { Clock } from '../clock.ts';
import { readJsonBody } from '../http/json-body.ts';
import { admitReply, type ReplyAdmissionDeps } from '../limits/reply-admission.ts';
import type { Logger } from '../logger.ts';
import type { ReplyTracker, ServerMetrics } from '../metrics/server-metrics.ts';
import { buildContextWindow } from '../storage/context-window.ts';
import type { ConversationStore } from '../storage/conversation-store.ts';
import { estimateUsage } from '../storage/token-estimate.ts';
import type { UpstreamModel, UpstreamStream } from '../upstream/upstream-model.ts';
import type { VoiceService } from '../voice/voice-service.ts';
import { assertContentAllowed, type ContentChecker } from '../wechat/content-checker.ts';
import { parseChatRequest } from './chat-request.ts';
import { persistTurn, prepareTurn, type PersistedTurn } from './conversation-turn.ts';
import { createIdleWatchdog } from './idle-watchdog.ts';
import { keepLeaseAlive } from './lease-keeper.ts';
import { ClientClosed, ReplyStopped, outcomeOf, relayReply, type RelayOutcome } from './relay.ts';
import { concludeReply, type ReplyConclusion } from './reply-conclusion.ts';
import { createReplyContentGuard } from './reply-content-guard.ts';
import { createReplyRecorder, type ReplyRecorder } from './reply-recorder.ts';
import { speakReply, type ReplyVoice } from './reply-voice.ts';
import type { ReplyRegistry } from './reply-registry.ts';
import { createReplyLogWriter } from './reply-log-writer.ts';
import { streamReplyLog } from './reply-log-stream.ts';
import type { ReplyEnding } from './reply-writer.ts';

export interface ChatSettings {
  maxBodyBytes: number;
  maxMessageChars: number;
  heartbeatIntervalMs: number;
  upstreamIdleTimeoutMs: number;
  maxConversationMessages: number;
  maxContextTokens: number;
  systemPrompt: string | undefined;
  /** How often a running reply renews its lease. */
  leaseRenewIntervalMs: number;
  checkpointIntervalMs: number;
  checkpointChars: number;
  /** Debugging only: the user's message and the reply's text in the `reply finished` record. */
  logMessageText: boolean;
  /** After the 200, a client that disconnects leaves the reply running to its end (true) or aborts it. */
  continueOnDisconnect: boolean;
}

export interface ChatRouteDeps {
  upstream: UpstreamModel;
  replies: ReplyRegistry;
  replyLog: ReplyLog;
  store: ConversationStore;
  admission: ReplyAdmissionDeps;
  contentChecker: ContentChecker;
  metrics: ServerMetrics;
  clock: Clock;
  ids: () => string;
  settings: ChatSettings;
  /** Undefined when voice is off: replies that ask for it say `voice: false` in `start`. */
  voice: VoiceService | undefined;
}

function isUpstreamCode(code: string): boolean {
  return code.startsWith('upstream_');
}

export function chatRoute(deps: ChatRouteDeps): Middleware<AppState> {
  const { settings, metrics } = deps;
  return async (ctx) => {
    const log = ctx.state.log;
    const user = ctx.state.user;
    if (user === undefined) throw new Error('chatRoute must run behind requireAuth');
    const request = parseChatRequest(await readJsonBody(ctx.req, { maxBytes: settings.maxBodyBytes }), settings);
    const startedAt = deps.clock.now();
    // The voice that speaks this reply: asked for, configured, and able to work here.
    const speaker = request.voice === true && deps.voice?.unavailableReason === undefined ? deps.voice : undefined;

    const { lease } = await admitReply(deps.admission, user.id, deps.ids());
    const controller = new AbortController();
    const abort = (reason: Error) => {
      if (!controller.signal.aborted) controller.abort(reason);
    };
    const guard = createReplyContentGuard({ checker: deps.contentChecker, openid: user.openid ?? '', onStop: abort, log });
    // The client leaving and a shutdown also end the reply's final wait for content verdicts.
    const endNow = (reason: Error) => {
      abort(reason);
      guard.cancel();
    };
    const inFlight: { interrupt: (reason: Error) => void; messageId: string | undefined; stop: () => void } = {
      interrupt: endNow,
      messageId: undefined,
      stop: () => endNow(new ReplyStopped()),
    };
    const unregister = deps.replies.add(inFlight);
    const leaseKeeper = keepLeaseAlive({ lease, clock: deps.clock, intervalMs: settings.leaseRenewIntervalMs, log });
    const res = ctx.res;
    let committed = false;
    const onConnectionClosed = () => {
      if (res.writableFinished) return;
      if (!committed || !settings.continueOnDisconnect) endNow(new ClientClosed());
    };
    res.once('close', onConnectionClosed);
    const watchdog = createIdleWatchdog({
      clock: deps.clock,
      timeoutMs: settings.upstreamIdleTimeoutMs,
      onIdle: () => abort(new WxstreamError('upstream_timeout', `The model sent nothing for ${settings.upstreamIdleTimeoutMs} ms`)),
    });
    const release = async () => {
      watchdog.stop();
      leaseKeeper.stop();
      res.off('close', onConnectionClosed);
      try {
        await lease.release();
      } catch (error) {
        log.warn({ err: error }, 'could not release the reply lease; it expires on its own');
      }
      unregister();
    };

    let tracker: ReplyTracker | undefined;
    let chunks: UpstreamStream;
    let answeredBy = deps.upstream.model;
    let turn: PersistedTurn;
    let prompt: readonly { content: string }[];
    try {
      const prepared = await prepareTurn(deps.store, user.id, request.conversationId, settings.maxConversationMessages);
      tracker = metrics.startReply();
      assertContentAllowed(
        await deps.contentChecker.checkText({ openid: user.openid ?? '', text: request.message, role: 'user', signal: controller.signal }),
        'user',
      );
      const context = buildContextWindow({
        ...(settings.systemPrompt === undefined ? {} : { systemPrompt: settings.systemPrompt }),
        history: prepared.history,
        userMessage: request.message,
        maxTokens: settings.maxContextTokens,
      });
      prompt = context.messages;
      if (context.droppedMessages > 0) log.info({ droppedMessages: context.droppedMessages }, 'older messages left out of the context');
      watchdog.touch();
      try {
        chunks = await deps.upstream.open({ messages: context.messages, signal: controller.signal });
      } catch (error) {
        throw controller.signal.aborted ? controller.signal.reason : deps.upstream.failure(error, 'before-stream');
      }
      if (controller.signal.aborted) throw controller.signal.reason;
      // A fallback may have answered instead of the configured model: announce and store the one that did.
      answeredBy = chunks.model ?? deps.upstream.model;
      try {
        turn = await persistTurn(deps.store, user.id, prepared, request.message, answeredBy);
      } catch (error) {
        abort(new Error('the turn could not be stored'));
        throw error;
      }
      try {
        await deps.replyLog.create(turn.reply.id, { userId: user.id, conversationId: turn.conversationId, lockId: lease.replyId });
      } catch (error) {
        abort(new Error('the reply log could not be created'));
        await deps.store.updateAssistantMessage(turn.reply.id, { status: 'error', errorCode: 'internal_error' }).catch((storeError: unknown) => {
          log.error({ err: storeError }, 'could not mark the reply as failed');
        });
        throw error;
      }
      inFlight.messageId = turn.reply.id;
    } catch (thrown) {
      await release();
      if (thrown instanceof ClientClosed) {
        tracker?.end('disconnected');
        log.info({ outcome: 'client_closed', durationMs: deps.clock.now() - startedAt }, 'client left before the reply started');
        ctx.respond = false;
        return;
      }
      if (thrown instanceof WxstreamError) {
        tracker?.end(thrown.code === 'content_blocked' ? 'blocked' : 'error', thrown.code);
        if (isUpstreamCode(thrown.code)) metrics.upstreamError(thrown.code);
        if (tracker !== undefined) log.warn({ code: thrown.code, detail: thrown.message }, 'the reply failed before the stream');
      } else {
        tracker?.end('error', 'internal_error');
      }
      throw thrown;
    }

    // Commit: from here on the status is 200 and errors travel in-band.
    const reply = tracker;
    const recorder = createReplyRecorder({
      store: deps.store,
      messageId: turn.reply.id,
      clock: deps.clock,
      checkpointIntervalMs: settings.checkpointIntervalMs,
      checkpointChars: settings.checkpointChars,
      log,
    });
    committed = true;
    ctx.req.socket.setNoDelay(true);
    ctx.status = 200;
    ctx.set(STREAM_HEADERS);
    ctx.set(PROTOCOL_HEADER, String(PROTOCOL_VERSION));
    let voice: ReplyVoice | undefined;
    const writer = createReplyLogWriter({
      log: deps.replyLog,
      replyId: turn.reply.id,
      onEvent: (event) => {
        if (event.type === 'reasoning' || event.type === 'delta') reply.firstToken();
        recorder.observe(event);
        guard.observe(event);
        voice?.observe(event);
      },
      onAppendFailed: (error) => {
        log.error({ err: error }, 'the reply log refused an event; ending the reply');
        const full = error instanceof ReplyLogWriteError && error.reason === 'full';
        abort(new WxstreamError('internal_error', full ? 'The reply reached REPLY_LOG_MAX_EVENTS' : 'The reply log failed'));
      },
    });
    writer.start({
      conversationId: turn.conversationId,
      messageId: turn.reply.id,
      model: answeredBy,
      ...(request.voice === true ? { voice: speaker !== undefined } : {}),
    });
    if (speaker !== undefined) {
      voice = speakReply({
        voice: speaker.open({ voiceName: request.voiceName, signal: controller.signal, log }),
        writer,
        log,
        clock: deps.clock,
        finishTimeoutMs: speaker.finishTimeoutMs,
        onSegment: (segment) => metrics.voiceSegment(segment.skipped ? segment.code : 'spoken'),
      });
    }

    // The response is the log's first reader.
    const body = new PassThrough();
    const reader = new AbortController();
    const onBodyTornDown = () => {
      reader.abort();
      if (!settings.continueOnDisconnect && !writer.ended) endNow(new ClientClosed());
    };
    body.once('close', onBodyTornDown);
    res.once('close', onBodyTornDown);
    ctx.body = body;
    void streamReplyLog({
      log: deps.replyLog,
      replyId: turn.reply.id,
      afterId: 0,
      sink: body,
      clock: deps.clock,
      heartbeatIntervalMs: settings.heartbeatIntervalMs,
      signal: reader.signal,
    })
      .catch((error: unknown) => log.error({ err: error }, 'could not read the reply log'))
      .finally(() => {
        body.off('close', onBodyTornDown);
        res.off('close', onBodyTornDown);
      });

    // Stores the reply's ending, counts its usage and outcome — once, whichever way the reply ends.
    let finalized: Promise<ReplyConclusion> | undefined;
    const finalize = (outcome: RelayOutcome): Promise<ReplyConclusion> =>
      (finalized ??= (async () => {
        guard.cancel();
        const conclusion = concludeReply(outcome, guard.verdict);
        const usage: UsageData = outcome.usage ?? estimateUsage(prompt, recorder.reasoning + recorder.text);
        await storeEnding(recorder, conclusion, usage, log);
        try {
          await deps.admission.quota.record(user.id, usage.promptTokens + usage.completionTokens);
        } catch (error) {
          log.error({ err: error }, 'could not count the reply against the daily quota');
        }
        metrics.tokensUsed(usage);
        if (conclusion.metricsCode !== undefined && isUpstreamCode(conclusion.metricsCode)) metrics.upstreamError(conclusion.metricsCode);
        reply.end(conclusion.metricsOutcome, conclusion.metricsCode);
        log.info(
          {
            outcome: outcome.kind,
            status: conclusion.status,
            ...(outcome.kind === 'done' ? { finishReason: outcome.finishReason } : {}),
            ...(outcome.kind === 'error' ? { code: outcome.error.code, detail: outcome.error.message } : {}),
            conversationId: turn.conversationId,
            messageId: turn.reply.id,
            events: writer.eventCount,
            checkpoints: recorder.checkpoints,
            contentChecks: guard.checks,
            promptTokens: usage.promptTokens,
            completionTokens: usage.completionTokens,
            usageEstimated: outcome.usage === undefined,
            durationMs: deps.clock.now() - startedAt,
            ...messageTextFields(settings.logMessageText, request.message, recorder),
          },
          'reply finished',
        );
        return conclusion;
      })());

    const relayed = relayReply({
      chunks,
      writer,
      signal: controller.signal,
      watchdog,
      failure: (error) => deps.upstream.failure(error, 'mid-stream'),
      beforeEnd: async (proposed, usage) => {
        const verdict = await guard.settle();
        const ending: ReplyEnding = verdict.kind === 'stopped' ? { type: 'error', data: verdict.error.toWire() } : proposed;
        // The last segments are spoken before the terminal event: nothing may follow it.
        await voice?.finish(ending);
        await finalize(outcomeOf(ending, usage));
        return ending;
      },
    }).catch((error: unknown): RelayOutcome => {
      // relayReply is written never to reject; if it does anyway, the reply still gets its one ending.
      log.error({ err: error }, 'relay failed');
      const failure = new WxstreamError('internal_error', 'The reply failed').toWire();
      writer.end({ type: 'error', data: failure });
      return { kind: 'error', error: failure, usage: undefined };
    });
    void relayed.then(async (outcome) => {
      voice?.close();
      await finalize(outcome);
      // The terminal event is in the log before the reply counts as ended (shutdown waits for that).
      await writer.settled();
      await release();
    });
  };
}

async function storeEnding(recorder: ReplyRecorder, conclusion: ReplyConclusion, usage: UsageData, log: Logger): Promise<void> {
  try {
    const stored = await recorder.finish({
      status: conclusion.status,
      ...(conclusion.finishReason === undefined ? {} : { finishReason: conclusion.finishReason }),
      ...(conclusion.errorCode === undefined ? {} : { errorCode: conclusion.errorCode }),
      usage,
      clearText: conclusion.clearText,
    });
    if (stored === undefined) log.info('the reply ended after its conversation was deleted; only its usage was kept');
  } catch (error) {
    // At the next start `markInterruptedReplies` turns the row still `streaming` into an error.
    log.error({ err: error }, 'could not store the end of the reply');
  }
}

function messageTextFields(enabled: boolean, message: string, recorder: ReplyRecorder): Record<string, string> {
  return enabled ? { userText: message, replyText: recorder.text } : {};
}
