/**
 * Relay → conclude — the phases of a committed reply after its 200: the upstream stream is relayed
 * into the reply's writer (`relay.ts`) until it ends, the reply is concluded (`reply-finalizer.ts`)
 * and its run released.
 *
 * Contract: before the terminal event is written the content guard settles (a risky segment turns
 * the ending into `content_blocked`), the voice speaks its last segments while follow-up questions
 * are asked for (`reply-side-calls.ts`, bounded by `FOLLOW_UP_TIMEOUT_MS`) and sent as one
 * `suggestions` event, and the reply is stored with its ending — so nothing follows the terminal
 * event, and a client that saw it finds the reply complete. After the relay: the voice is closed, the reply concluded (once, if the relay
 * did not already), the writer's last appends answered (the terminal is in the log before the
 * reply counts as ended: shutdown waits for that), and the run released. Resolves when all of that
 * is done; a relay that rejects, which it is written never to do, still ends the reply with one
 * `internal_error`. A conversation's first complete reply then has the model title it, in the
 * background.
 */
import { WxstreamError } from '@wxstream/protocol';
import type { ChatRouteDeps } from './chat-deps.ts';
import { outcomeOf, relayReply, type RelayOutcome } from './relay.ts';
import type { CommittedReply } from './reply-commit.ts';
import { createReplyFinalizer } from './reply-finalizer.ts';
import type { ReplyEnding } from './reply-writer.ts';
import { followUpsFor, titleAfter } from './reply-side-calls.ts';

export async function relayAndConclude(deps: ChatRouteDeps, reply: CommittedReply): Promise<void> {
  const { run, writer, voice, log } = reply;
  const conclude = createReplyFinalizer(deps, reply);
  const outcome = await relayReply({
    chunks: reply.chunks,
    writer,
    signal: run.signal,
    watchdog: run.watchdog,
    failure: (error) => deps.upstream.failure(error, 'mid-stream'),
    beforeEnd: async (proposed, usage) => {
      const verdict = await run.guard.settle();
      const ending: ReplyEnding = verdict.kind === 'stopped' ? { type: 'error', data: verdict.error.toWire() } : proposed;
      const followUps = followUpsFor(deps, reply, ending);
      await voice?.finish(ending);
      writer.suggestions({ items: await followUps });
      await conclude(outcomeOf(ending, usage));
      return ending;
    },
  }).catch((error: unknown): RelayOutcome => {
    log.error({ err: error }, 'relay failed');
    const failure = new WxstreamError('internal_error', 'The reply failed').toWire();
    writer.end({ type: 'error', data: failure });
    return { kind: 'error', error: failure, usage: undefined };
  });
  voice?.close();
  const conclusion = await conclude(outcome);
  await writer.settled();
  await run.release();
  titleAfter(deps, reply, conclusion);
}
