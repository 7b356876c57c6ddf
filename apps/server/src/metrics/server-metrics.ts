/**
 * The server's Prometheus metrics, in a registry this object owns.
 *
 * Contract: every `ServerMetrics` has its own `Registry` (never prom-client's global one), so tests
 * and several apps in one process never collide or double-register. Series, all prefixed
 * `wxstream_`:
 * - `replies_in_progress` (gauge): replies started and not yet ended.
 * - `replies_total{outcome, code}` (counter): how replies ended. `outcome` is one of
 *   `REPLY_OUTCOMES`; `code` is a protocol error code where one applies (`error`, `blocked`) and
 *   absent otherwise. Both come from closed sets, so cardinality is bounded; an unknown code at
 *   run time is counted as `internal_error` rather than minting a new series.
 * - `time_to_first_token_seconds` (histogram): from the reply's start to its first token.
 * - `upstream_errors_total{code}` (counter): failures of the model provider, by protocol code.
 * - `upstream_retries_total{reason}` (counter): refused model calls sent again before the reply
 *   started, by `UPSTREAM_RETRY_REASONS` (`rate_limited` 429, `unavailable` 5xx, `connection`
 *   refused/reset with no HTTP answer).
 * - `upstream_fallbacks_total` (counter): requests handed to the fallback model after the primary
 *   kept refusing.
 * - `tokens_total{kind}` (counter): tokens used, `prompt` or `completion`.
 * - `limit_refusals_total{limit}` (counter): requests refused by a limit: the chat's per-user
 *   `rate`, `quota` and `reply_in_progress`; the per-address `login_rate` and `public_rate`; the
 *   per-user `api_rate` of the other authenticated routes; the caps `streams_per_user`,
 *   `readers_per_reply`, `connections` (answered 503) and `connections_dropped` (past the hard cap,
 *   closed unanswered) and `reply_log_memory`.
 * - `voice_segments_total{outcome}` (counter): spoken segments of voice replies, `spoken` or the
 *   code they were skipped with (`tts_failed`, `tts_unavailable`).
 * - `feedback_total{rating}` (counter): ratings given to replies, `up`, `down` or `none` (removed).
 * - `replies_abandoned_total` (counter): replies whose generating instance died without ending
 *   them, ended by a reader on this instance (the dead instance counted neither their end nor
 *   anything else, so this is the only trace they leave in the metrics).
 * Series with a small fixed label set start at 0, so a dashboard sees them before the first event
 * and `rate()` works from the first scrape. Default Node process metrics (CPU, memory, event loop
 * lag, GC) are added to the same registry when `collectProcessMetrics` is true.
 *
 * `startReply()` returns a tracker whose `firstToken()` observes time to first token once and whose
 * `end()` counts the outcome and decrements the gauge exactly once, however often either is called
 * — so "every reply ends exactly once" holds for the metrics even if several paths report an end.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { isErrorCode, type ErrorCode } from '@wxstream/protocol';
import type { Clock } from '../clock.ts';
import { UPSTREAM_RETRY_REASONS, type RetryObserver, type UpstreamRetryReason } from '../upstream/retrying-upstream.ts';

export const REPLY_OUTCOMES = ['done', 'stopped', 'error', 'blocked', 'disconnected'] as const;
export type ReplyOutcome = (typeof REPLY_OUTCOMES)[number];

export const VOICE_SEGMENT_OUTCOMES = ['spoken', 'tts_failed', 'tts_unavailable'] as const;
export type VoiceSegmentOutcome = (typeof VOICE_SEGMENT_OUTCOMES)[number];

export const LIMIT_KINDS = [
  'rate',
  'quota',
  'reply_in_progress',
  'login_rate',
  'public_rate',
  'api_rate',
  'streams_per_user',
  'readers_per_reply',
  'connections',
  'connections_dropped',
  'reply_log_memory',
] as const;
export type LimitKind = (typeof LIMIT_KINDS)[number];

export const TOKEN_KINDS = ['prompt', 'completion'] as const;

/** A rating given, or `none` for one removed. */
export const FEEDBACK_RATING_LABELS = ['up', 'down', 'none'] as const;
export type FeedbackRatingLabel = (typeof FEEDBACK_RATING_LABELS)[number];

/** 50 ms (a warm local model) to 30 s (a cold or overloaded reasoning model), denser where users feel it. */
export const TIME_TO_FIRST_TOKEN_BUCKETS = [0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 8, 13, 20, 30];

export const METRIC_PREFIX = 'wxstream_';

export interface ServerMetricsOptions {
  clock: Pick<Clock, 'now'>;
  /** Add prom-client's default Node process metrics to this registry. */
  collectProcessMetrics?: boolean;
}

export interface ReplyTracker {
  /** The first token (reasoning or text) went out; only the first call counts. */
  firstToken(): void;
  /** The reply ended; only the first call counts. `code` is the error code for `error`/`blocked`. */
  end(outcome: ReplyOutcome, code?: ErrorCode): void;
}

export class ServerMetrics {
  readonly registry = new Registry();
  readonly #clock: Pick<Clock, 'now'>;
  readonly #inProgress: Gauge;
  readonly #replies: Counter<'outcome' | 'code'>;
  readonly #timeToFirstToken: Histogram;
  readonly #upstreamErrors: Counter<'code'>;
  readonly #tokens: Counter<'kind'>;
  readonly #refusals: Counter<'limit'>;
  readonly #voiceSegments: Counter<'outcome'>;
  readonly #abandoned: Counter;
  readonly #upstreamRetries: Counter<'reason'>;
  readonly #upstreamFallbacks: Counter;
  readonly #feedback: Counter<'rating'>;

  constructor(options: ServerMetricsOptions) {
    this.#clock = options.clock;
    const registers = [this.registry];
    this.#inProgress = new Gauge({
      name: `${METRIC_PREFIX}replies_in_progress`,
      help: 'Replies started and not yet ended.',
      registers,
    });
    this.#replies = new Counter({
      name: `${METRIC_PREFIX}replies_total`,
      help: 'Replies ended, by outcome and (for error and blocked) protocol error code.',
      labelNames: ['outcome', 'code'],
      registers,
    });
    this.#timeToFirstToken = new Histogram({
      name: `${METRIC_PREFIX}time_to_first_token_seconds`,
      help: 'Time from the start of a reply to its first token.',
      buckets: TIME_TO_FIRST_TOKEN_BUCKETS,
      registers,
    });
    this.#upstreamErrors = new Counter({
      name: `${METRIC_PREFIX}upstream_errors_total`,
      help: 'Failures of the model provider, by protocol error code.',
      labelNames: ['code'],
      registers,
    });
    this.#tokens = new Counter({
      name: `${METRIC_PREFIX}tokens_total`,
      help: 'Tokens used by replies, by kind.',
      labelNames: ['kind'],
      registers,
    });
    this.#refusals = new Counter({
      name: `${METRIC_PREFIX}limit_refusals_total`,
      help: 'Requests refused by a limit: rate limits, quotas and caps.',
      labelNames: ['limit'],
      registers,
    });
    this.#voiceSegments = new Counter({
      name: `${METRIC_PREFIX}voice_segments_total`,
      help: 'Segments of voice replies: spoken, or the code they were skipped with.',
      labelNames: ['outcome'],
      registers,
    });
    for (const outcome of VOICE_SEGMENT_OUTCOMES) this.#voiceSegments.inc({ outcome }, 0);
    this.#upstreamRetries = new Counter({
      name: `${METRIC_PREFIX}upstream_retries_total`,
      help: 'Refused model calls sent again before the reply started, by why they were refused.',
      labelNames: ['reason'],
      registers,
    });
    this.#upstreamFallbacks = new Counter({
      name: `${METRIC_PREFIX}upstream_fallbacks_total`,
      help: 'Requests handed to the fallback model after the primary kept refusing.',
      registers,
    });
    this.#abandoned = new Counter({
      name: `${METRIC_PREFIX}replies_abandoned_total`,
      help: 'Replies whose generating instance died without ending them, ended here with server_shutdown.',
      registers,
    });
    this.#feedback = new Counter({
      name: `${METRIC_PREFIX}feedback_total`,
      help: 'Ratings given to replies: up, down, or none (a rating removed).',
      labelNames: ['rating'],
      registers,
    });
    for (const rating of FEEDBACK_RATING_LABELS) this.#feedback.inc({ rating }, 0);
    for (const outcome of REPLY_OUTCOMES) if (outcome !== 'error' && outcome !== 'blocked') this.#replies.inc({ outcome }, 0);
    for (const kind of TOKEN_KINDS) this.#tokens.inc({ kind }, 0);
    for (const limit of LIMIT_KINDS) this.#refusals.inc({ limit }, 0);
    for (const reason of UPSTREAM_RETRY_REASONS) this.#upstreamRetries.inc({ reason }, 0);
    if (options.collectProcessMetrics === true) collectDefaultMetrics({ register: this.registry });
  }

  startReply(): ReplyTracker {
    const startedAt = this.#clock.now();
    let sawFirstToken = false;
    let ended = false;
    this.#inProgress.inc();
    return {
      firstToken: () => {
        if (sawFirstToken || ended) return;
        sawFirstToken = true;
        this.#timeToFirstToken.observe(Math.max(0, this.#clock.now() - startedAt) / 1000);
      },
      end: (outcome, code) => {
        if (ended) return;
        ended = true;
        this.#inProgress.dec();
        this.#replies.inc(code === undefined ? { outcome } : { outcome, code: boundedCode(code) });
      },
    };
  }

  upstreamError(code: ErrorCode): void {
    this.#upstreamErrors.inc({ code: boundedCode(code) });
  }

  tokensUsed(usage: { promptTokens: number; completionTokens: number }): void {
    // prom-client throws on negative increments; a provider's nonsense must not crash a reply.
    if (usage.promptTokens > 0) this.#tokens.inc({ kind: 'prompt' }, usage.promptTokens);
    if (usage.completionTokens > 0) this.#tokens.inc({ kind: 'completion' }, usage.completionTokens);
  }

  feedbackGiven(rating: FeedbackRatingLabel): void {
    this.#feedback.inc({ rating });
  }

  limitRefused(limit: LimitKind): void {
    this.#refusals.inc({ limit });
  }

  voiceSegment(outcome: VoiceSegmentOutcome): void {
    this.#voiceSegments.inc({ outcome });
  }

  replyAbandoned(): void {
    this.#abandoned.inc();
  }

  /** What the retrying upstream reports to. */
  readonly upstreamRetries: RetryObserver = {
    retried: (reason: UpstreamRetryReason) => this.#upstreamRetries.inc({ reason }),
    fellBack: () => this.#upstreamFallbacks.inc(),
  };
}

function boundedCode(code: string): ErrorCode {
  return isErrorCode(code) ? code : 'internal_error';
}
