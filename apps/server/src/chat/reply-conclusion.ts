/**
 * How a reply is recorded once it has ended: its stored status and the outcome counted in metrics.
 * Pure.
 *
 * Contract:
 * - `done` → stored `complete` with the provider's finish reason; metrics `done`. `done` with
 *   finish reason `stopped` (the user's explicit stop) → stored `stopped`; metrics `stopped`.
 * - The client went away → stored `stopped` with finish reason `client_closed`; metrics
 *   `disconnected`. In this protocol version a client stops a reply by aborting its request, so the
 *   server cannot tell a stop button from a lost connection: both keep the text that was sent, as
 *   `stopped`, and the finish reason says what the server actually saw. (An explicit stop endpoint
 *   will let `stopped` mean the user's stop alone.)
 * - A content check found the reply risky (at any point, even after the client left) → stored
 *   `blocked` with `content_blocked` and WITHOUT its text and reasoning: part of it was judged
 *   risky, and the rest out of context should neither be shown again in the history nor sent to
 *   the model as context; metrics `blocked`.
 * - Any other in-band error → stored `error` with its code, text kept (the user saw it and may
 *   refer to it); metrics `error` with the code.
 */
import type { ErrorCode } from '@wxstream/protocol';
import type { ReplyOutcome } from '../metrics/server-metrics.ts';
import type { FinalMessageStatus } from '../storage/conversation-store.ts';
import type { GuardVerdict } from './reply-content-guard.ts';
import type { RelayOutcome } from './relay.ts';

export const CLIENT_CLOSED_FINISH_REASON = 'client_closed';
export const STOPPED_FINISH_REASON = 'stopped';

export interface ReplyConclusion {
  readonly status: FinalMessageStatus;
  readonly finishReason?: string;
  readonly errorCode?: ErrorCode;
  /** Store the reply without its text and reasoning. */
  readonly clearText: boolean;
  readonly metricsOutcome: ReplyOutcome;
  readonly metricsCode?: ErrorCode;
}

const BLOCKED: ReplyConclusion = {
  status: 'blocked',
  errorCode: 'content_blocked',
  clearText: true,
  metricsOutcome: 'blocked',
  metricsCode: 'content_blocked',
};

export function concludeReply(outcome: RelayOutcome, guard: GuardVerdict): ReplyConclusion {
  if (guard.kind === 'stopped' && guard.blocked) return BLOCKED;
  switch (outcome.kind) {
    case 'done':
      if (outcome.finishReason === STOPPED_FINISH_REASON) {
        return { status: 'stopped', finishReason: STOPPED_FINISH_REASON, clearText: false, metricsOutcome: 'stopped' };
      }
      return { status: 'complete', finishReason: outcome.finishReason, clearText: false, metricsOutcome: 'done' };
    case 'client_closed':
      return { status: 'stopped', finishReason: CLIENT_CLOSED_FINISH_REASON, clearText: false, metricsOutcome: 'disconnected' };
    case 'error': {
      const code = outcome.error.code;
      if (code === 'content_blocked') return BLOCKED;
      return { status: 'error', errorCode: code, clearText: false, metricsOutcome: 'error', metricsCode: code };
    }
  }
}
