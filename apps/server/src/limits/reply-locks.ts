/**
 * One reply in progress per user: the contract every implementation (in-process now, Redis
 * later) satisfies; `test/support/limits-contract.ts` checks it.
 *
 * Contract:
 * - `tryAcquire(userId, replyId)` resolves to a `Lease` when the user holds no live lease, else to
 *   `undefined` (the caller answers 409 `reply_in_progress`). Concurrent calls for one user yield
 *   exactly one lease, whichever instance makes them.
 * - A lease lives `ttlMs` from acquisition or from its last successful `renew()`; then it expires
 *   and the user can acquire again. The TTL is crash safety, not a reply time limit: a process that
 *   dies holding a lease would otherwise lock its user out forever once locks live in a shared
 *   store. A holder whose reply may outlast the TTL renews (e.g. on every heartbeat).
 * - `release()` frees the lease; calling it again, or after expiry, does nothing, and it never
 *   frees a newer lease someone else acquired after ours expired (each lease has its own identity,
 *   so a late release from a slow holder cannot unlock a reply in progress).
 * - `renew()` resolves true and restarts the TTL while the lease is live; false once it was
 *   released or expired (the lock is gone or someone else's: the holder should not assume it).
 * - `releaseAbandoned(userId, replyId)` frees the user's lease only while it is still the one taken
 *   for `replyId`: for the reader that ended a reply whose instance died holding the lease. A newer
 *   lease (taken after that one expired) is never touched.
 * - Expiry is decided by the injected clock, never by the store's own clock, so one test suite
 *   runs against every implementation with a manual clock. A store-side TTL (Redis PEXPIRE) may
 *   only be garbage collection with slack on top, not the source of truth.
 */

export interface Lease {
  readonly userId: string;
  readonly replyId: string;
  release(): Promise<void>;
  renew(): Promise<boolean>;
}

export interface ReplyLocks {
  tryAcquire(userId: string, replyId: string): Promise<Lease | undefined>;
  releaseAbandoned(userId: string, replyId: string): Promise<void>;
}
