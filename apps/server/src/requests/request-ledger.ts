/**
 * The chat requests clients name with a `requestId`: what became of each, shared by every instance, so a
 * repeated send never starts a second turn and a stop can name a request before its reply exists.
 * The contract both implementations (in-process, Redis) satisfy; `test/request-ledger.test.ts` checks it.
 *
 * A requestId is global (one record per id) and belongs to the user who used it first; to anyone else it
 * is `foreign`. A record is in one of three states:
 * - `stop-requested` — a stop arrived before the request did; kept `stopTtlMs`.
 * - `admitting` — a request with this id is being admitted on some instance (limits, the model's
 *   headers); kept `admittingTtlMs` at most (an instance that died mid-admission lets go this way).
 * - `committed` — its turn is stored: the reply's `messageId` and `conversationId`; kept `committedTtlMs`
 *   from the commit and again from `end` (as long as the reply log keeps its events).
 *
 * Contract:
 * - `claim(userId, requestId)`, atomically: an unknown id is claimed (`claimed`); a remembered stop is
 *   claimed too, with `stopRequested: true` (the reply must end `stopped` when it would have started);
 *   an id being admitted is `admitting`; a committed one answers its reply (`committed`); another user's
 *   is `foreign`.
 * - `commit(requestId, reply)` records the reply of a claimed request and says whether a stop was asked
 *   for meanwhile. `release(requestId)` forgets a claimed request that failed before its commit (a repeat
 *   then starts afresh). `end(requestId)` notes that the reply has ended and its run let go.
 * - `stop(userId, requestId)`, atomically: unknown → remembered (`remembered`); admitting → flagged
 *   (`admitting`: the admitting instance ends it `stopped`); committed → `committed` with the reply's id
 *   (stop it as a reply); another user's → `foreign`.
 * - `get(requestId)` reads a record (undefined when unknown or expired).
 */
export interface CommittedRequest {
  readonly messageId: string;
  readonly conversationId: string;
}

export type RequestRecord =
  | { readonly state: 'stop-requested'; readonly userId: string }
  | { readonly state: 'admitting'; readonly userId: string; readonly stopRequested: boolean }
  | ({ readonly state: 'committed'; readonly userId: string; readonly stopRequested: boolean; readonly ended: boolean } & CommittedRequest);

export type ClaimResult =
  | { readonly kind: 'claimed'; readonly stopRequested: boolean }
  | { readonly kind: 'admitting' }
  | ({ readonly kind: 'committed' } & CommittedRequest)
  | { readonly kind: 'foreign' };

export type StopResult =
  | { readonly kind: 'remembered' }
  | { readonly kind: 'admitting' }
  | ({ readonly kind: 'committed' } & CommittedRequest)
  | { readonly kind: 'foreign' };

export interface RequestLedgerTimes {
  readonly stopTtlMs: number;
  readonly admittingTtlMs: number;
  readonly committedTtlMs: number;
}

export interface RequestLedger {
  claim(userId: string, requestId: string): Promise<ClaimResult>;
  commit(requestId: string, reply: CommittedRequest): Promise<{ stopRequested: boolean }>;
  release(requestId: string): Promise<void>;
  end(requestId: string): Promise<void>;
  stop(userId: string, requestId: string): Promise<StopResult>;
  get(requestId: string): Promise<RequestRecord | undefined>;
}
