/**
 * A chat request the client named with a `requestId`: a repeat of it never starts a second turn, and a
 * stop can reach it before its reply exists. What the chat route adds around its phases for such a
 * request; an unnamed request passes through untouched.
 *
 * Contract:
 * - `claimNamedRequest` (admission, before any limit is spent) claims the id in the request ledger. A
 *   repeat of a committed request is answered with that reply (`RepeatedRequest`) — its events from the
 *   start, or `202` in polling delivery — and spends no rate, quota or lock; a repeat while the first is
 *   still being admitted is `409 reply_in_progress` with `Retry-After: 1` (ask again); another user's
 *   id is `400 invalid_request`.
 * - `trackNamedRequest` (between admission and commit) makes the request stoppable by its id before its
 *   reply exists: it registers as `request:<requestId>` in the reply registry (so a stop published by
 *   any instance reaches it), and gives the phases an upstream that, when the stop comes while the
 *   model's headers are awaited, closes the upstream call at once and answers an empty stream — the turn
 *   is still stored and the reply ends `stopped` "when it would have started". A stop remembered before
 *   the request arrived (or asked while it was admitted) has the same effect, without a model call.
 *   `committed(prepared)` records the reply in the ledger and, when a stop was asked for meanwhile, stops
 *   the run (`ReplyStopped`: `done {"finishReason":"stopped"}`, stored `stopped`); `failed()` forgets the
 *   claim of a request that failed before its commit; `ended()` notes the reply's end once its run let
 *   go, which is what a stop by requestId waits for. Every path unregisters from the reply registry.
 */
import type { ChatRequest } from '@wxstream/protocol';
import { WxstreamError } from '@wxstream/protocol';
import { LimitExceededError } from '../limits/limit-exceeded-error.ts';
import type { RequestLedger } from '../requests/request-ledger.ts';
import type { UpstreamChunk, UpstreamModel, UpstreamStream } from '../upstream/upstream-model.ts';
import type { AdmittedChat } from './chat-admission.ts';
import type { ChatRouteDeps } from './chat-deps.ts';
import { ReplyStopped } from './relay.ts';
import type { PreparedReply } from './reply-preparation.ts';

/** The registry id under which a request is stoppable before its reply has one. */
export function requestStopId(requestId: string): string {
  return `request:${requestId}`;
}

export interface RepeatedRequest {
  readonly kind: 'repeat';
  readonly messageId: string;
  readonly conversationId: string;
  readonly delivery: ChatRequest['delivery'];
}

export interface NamedClaim {
  readonly requestId: string;
  /** A stop was remembered for this request before it arrived. */
  readonly stopRequested: boolean;
}

/** Claims the request's id; undefined for an unnamed request. */
export async function claimNamedRequest(
  ledger: RequestLedger | undefined,
  userId: string,
  request: ChatRequest,
): Promise<NamedClaim | RepeatedRequest | undefined> {
  const requestId = request.requestId;
  if (ledger === undefined || requestId === undefined) return undefined;
  const claim = await ledger.claim(userId, requestId);
  switch (claim.kind) {
    case 'claimed':
      return { requestId, stopRequested: claim.stopRequested };
    case 'committed':
      return { kind: 'repeat', messageId: claim.messageId, conversationId: claim.conversationId, delivery: request.delivery };
    case 'admitting':
      throw new LimitExceededError('reply_in_progress', 'This request is still being started; ask again', { retryAfterMs: 1000 });
    case 'foreign':
      throw new WxstreamError('invalid_request', 'This requestId is already in use; make a new one');
  }
}

export interface NamedRequestTracking {
  /** The dependencies the phases of this request use (its upstream may be stopped early). */
  readonly deps: ChatRouteDeps;
  committed(prepared: PreparedReply): Promise<void>;
  failed(): Promise<void>;
  ended(): Promise<void>;
}

const UNNAMED: Omit<NamedRequestTracking, 'deps'> = {
  async committed() {},
  async failed() {},
  async ended() {},
};

export function trackNamedRequest(deps: ChatRouteDeps, admitted: AdmittedChat): NamedRequestTracking {
  const claim = admitted.named;
  const ledger = deps.requests;
  if (claim === undefined || ledger === undefined) return { deps, ...UNNAMED };
  const early = new EarlyStop();
  if (claim.stopRequested) early.request();
  let unregister: (() => void) | undefined = deps.replies.add({
    messageId: requestStopId(claim.requestId),
    stop: () => early.request(),
    // Shutdown reaches the request through its run, which registered itself too.
    interrupt: () => {},
  });
  const leave = () => {
    unregister?.();
    unregister = undefined;
  };
  const log = admitted.log;
  return {
    deps: { ...deps, upstream: stoppableUpstream(deps.upstream, early) },
    async committed(prepared) {
      leave();
      let stopRequested = false;
      try {
        ({ stopRequested } = await ledger.commit(claim.requestId, {
          messageId: prepared.turn.reply.id,
          conversationId: prepared.turn.conversationId,
        }));
      } catch (error) {
        // The reply exists and goes on; only a repeat of this request could now start a second turn.
        log.warn({ err: error }, 'could not record the request as committed');
      }
      if (stopRequested || early.requested) {
        log.info({ requestId: claim.requestId }, 'the request was stopped before its reply started');
        prepared.run.endNow(new ReplyStopped());
      }
    },
    async failed() {
      leave();
      await ledger.release(claim.requestId).catch((error: unknown) => log.warn({ err: error }, 'could not release the request id'));
    },
    async ended() {
      leave();
      await ledger.end(claim.requestId).catch((error: unknown) => log.warn({ err: error }, 'could not mark the request ended'));
    },
  };
}

/** A stop asked for before the reply exists; listeners hear it once. */
export class EarlyStop {
  #requested = false;
  #listeners = new Set<() => void>();

  get requested(): boolean {
    return this.#requested;
  }

  request(): void {
    if (this.#requested) return;
    this.#requested = true;
    for (const listener of [...this.#listeners]) listener();
    this.#listeners.clear();
  }

  listen(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

/** What a reply stopped before its first byte relays: nothing. */
const EMPTY_STREAM: UpstreamStream = {
  async *[Symbol.asyncIterator](): AsyncGenerator<UpstreamChunk> {},
};

/**
 * The upstream for one named request: `open` as usual, except that an early stop closes the call at once
 * (its own abort, so the run itself is not aborted while the turn is still to be stored) and answers an
 * empty stream; a stop already asked for skips the call entirely.
 */
export function stoppableUpstream(upstream: UpstreamModel, early: EarlyStop): UpstreamModel {
  return {
    model: upstream.model,
    failure: (error, phase) => upstream.failure(error, phase),
    // Side questions (titles, follow-ups) come after the reply's text: an early stop has nothing to do with them.
    complete: (request) => upstream.complete(request),
    open({ messages, signal }) {
      if (early.requested) return Promise.resolve(EMPTY_STREAM);
      const call = new AbortController();
      const forward = () => call.abort(signal.reason);
      if (signal.aborted) forward();
      else signal.addEventListener('abort', forward, { once: true });
      return new Promise<UpstreamStream>((resolve, reject) => {
        let settled = false;
        const stopListening = early.listen(() => {
          if (settled) return;
          settled = true;
          call.abort(new ReplyStopped());
          resolve(EMPTY_STREAM);
        });
        upstream.open({ messages, signal: call.signal }).then(
          (stream) => {
            stopListening();
            if (settled) return;
            settled = true;
            resolve(stream);
          },
          (error: unknown) => {
            stopListening();
            if (settled) return;
            settled = true;
            reject(error);
          },
        );
      });
    },
  };
}
