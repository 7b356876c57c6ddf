/**
 * The replies in flight, so a shutdown can wait for them and then end the rest.
 *
 * Contract: a chat request registers itself as soon as it has a valid body and unregisters when
 * its reply has fully ended (or failed before the stream). `whenIdle()` resolves when none are
 * left. `interruptAll(reason)` asks every registered reply to end with `reason`; each reply
 * decides how (a JSON error before the stream, an in-band error after), so there is exactly one
 * place that writes terminal events. After `interruptAll`, a reply registering late (its body was
 * still being read) is interrupted at once instead of starting a model call nobody will wait for.
 * `stop(messageId)` asks the reply with that id (once it has one) to stop as the user asked; false
 * when no reply here has that id (another instance may be generating it).
 */
import type { WxstreamError } from '@wxstream/protocol';

export interface InFlightReply {
  interrupt(reason: WxstreamError): void;
  /** The stored reply's id, known once its turn is stored. */
  readonly messageId?: string | undefined;
  stop?(): void;
}

export class ReplyRegistry {
  #replies = new Set<InFlightReply>();
  #idleWaiters: Array<() => void> = [];
  #interruptedWith: WxstreamError | undefined;

  get size(): number {
    return this.#replies.size;
  }

  /** Registers a reply; call the returned function once it has ended. */
  add(reply: InFlightReply): () => void {
    this.#replies.add(reply);
    if (this.#interruptedWith !== undefined) reply.interrupt(this.#interruptedWith);
    return () => {
      this.#replies.delete(reply);
      if (this.#replies.size === 0) {
        const waiters = this.#idleWaiters;
        this.#idleWaiters = [];
        for (const wake of waiters) wake();
      }
    };
  }

  whenIdle(): Promise<void> {
    if (this.#replies.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  stop(messageId: string): boolean {
    for (const reply of this.#replies) {
      if (reply.messageId === messageId && reply.stop !== undefined) {
        reply.stop();
        return true;
      }
    }
    return false;
  }

  interruptAll(reason: WxstreamError): void {
    this.#interruptedWith = reason;
    for (const reply of [...this.#replies]) reply.interrupt(reason);
  }
}
