/**
 * Nothing is left behind after many replies with disconnects, resumes and stops: 1,000 replies from
 * 50 users (one reply at a time each), every one driven by a seeded random plan, against the real
 * server and the real emulator. Afterwards the emulator has no request still open, the server's
 * in-flight registry is empty, and `process.getActiveResourcesInfo()` is back to its baseline (the
 * test moves its clock past the reply-log retention, so the logs' own timers go too — the logs
 * never expire while the test still replays them, however slow the machine is). Every reply,
 * however it was read, arrives whole: ids 1…n without gap, one terminal event, the same bytes as a
 * replay from the start.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { isTerminalEvent } from '@wxstream/protocol';
import { createSeededRandom, type SeededRandom } from '../../../packages/client/test/support/seeded-random.ts';
import { excessOver, resourceCounts } from './support/active-resources.ts';
import { startOf } from './support/api-client.ts';
import { eventually } from './support/eventually.ts';
import { chatRequest, login, openStream, type OpenStream } from './support/http-client.ts';
import { parseReplyBody } from './support/reply-stream.ts';
import { eventFrames, framesAfter, lastFrameId, openResume, resume, stopReply } from './support/reply-routes-client.ts';
import { createTestClock } from './support/test-clock.ts';
import { startStack } from './support/test-server.ts';

const USERS = 50;
const REPLIES_PER_USER = 20;
const PIECES = Array.from({ length: 20 }, (_, index) => `片${index} `);
const REPLY_LOG_TTL_MS = 60_000;

type Plan = 'read' | 'disconnect-resume' | 'disconnect-twice' | 'stop' | 'disconnect-stop-resume';
const PLANS: readonly Plan[] = ['read', 'disconnect-resume', 'disconnect-twice', 'stop', 'disconnect-stop-resume'];

/** Waits until at least `events` frames arrived or the stream ended, then returns the complete frames. */
async function cutAfter(stream: OpenStream, events: number): Promise<string> {
  await Promise.race([stream.waitForText(`id: ${events}\nevent:`), stream.ended]).catch(() => undefined);
  stream.destroy();
  return eventFrames(stream.text()).join('');
}

async function runOne(url: string, token: string, random: SeededRandom): Promise<Plan> {
  const plan = random.pick(PLANS);
  let first = await openStream(url, '/api/chat', chatRequest(token, { message: `plan ${plan}` }));
  // The previous reply's lease is released just after its terminal event is logged: retry, as clients do on 409.
  while (first.status === 409) {
    await first.ended;
    await sleep(5);
    first = await openStream(url, '/api/chat', chatRequest(token, { message: `plan ${plan}` }));
  }
  assert.equal(first.status, 200, first.text());
  let got: string;
  if (plan === 'read') {
    got = eventFrames((await first.ended).toString('utf8')).join('');
  } else {
    got = await cutAfter(first, random.range(1, 15));
    const { messageId } = startOf(got);
    if (plan === 'disconnect-twice' && !parseReplyBody(got).events.some(isTerminalEvent)) {
      got += await cutAfter(await openResume(url, token, messageId, String(lastFrameId(got)), random.pick(['header', 'query'] as const)), lastFrameId(got) + random.range(1, 5));
    }
    if (plan === 'stop' || plan === 'disconnect-stop-resume') {
      const stop = await stopReply(url, token, messageId);
      assert.equal(stop.status, 200, stop.text);
    }
    if (!parseReplyBody(got).events.some(isTerminalEvent)) {
      const rest = await openResume(url, token, messageId, String(lastFrameId(got)), random.pick(['header', 'query', 'both'] as const));
      got += eventFrames((await rest.ended).toString('utf8')).join('');
    }
  }
  const reply = parseReplyBody(got);
  assert.deepEqual(
    reply.events.map((event) => event.id),
    reply.events.map((_, index) => index + 1),
    `${plan}: ids without gap`,
  );
  assert.equal(reply.events.filter(isTerminalEvent).length, 1, `${plan}: one terminal`);
  const { messageId } = startOf(got);
  assert.equal(framesAfter((await resume(url, token, messageId, '0')).text, 0), got, `${plan}: same bytes as a replay`);
  return plan;
}

test('1,000 replies with random disconnects, resumes and stops leave no open upstream request, no in-flight reply, no timer or socket', async () => {
  const clock = createTestClock();
  const stack = await startStack({
    clock,
    env: { REPLY_LOG_TTL_MS: String(REPLY_LOG_TTL_MS), HEARTBEAT_INTERVAL_MS: '50' },
    scenario: { content: PIECES, chunkDelayMs: 3 },
  });
  try {
    const tokens = await Promise.all(Array.from({ length: USERS }, (_, index) => login(stack.url, `leaker-${index}`)));
    // Warm up (SDK connection pool, lazily created timers), then let the warm-up's log expire.
    await runOne(stack.url, tokens[0] ?? '', createSeededRandom(1));
    await eventually(() => stack.app.server.activeReplies === 0, 'the warm-up reply to finish');
    clock.advance(REPLY_LOG_TTL_MS);
    const baseline = resourceCounts();

    const plans = await Promise.all(
      tokens.map(async (token, user) => {
        const random = createSeededRandom(1000 + user);
        const done: Plan[] = [];
        for (let index = 0; index < REPLIES_PER_USER; index += 1) {
          done.push(await runOne(stack.url, token, random));
        }
        return done;
      }),
    );
    const counted = new Map<Plan, number>();
    for (const plan of plans.flat()) counted.set(plan, (counted.get(plan) ?? 0) + 1);
    assert.equal(plans.flat().length, USERS * REPLIES_PER_USER);
    for (const plan of PLANS) assert.ok((counted.get(plan) ?? 0) > 10, `plan ${plan} ran (${counted.get(plan) ?? 0} times)`);

    await eventually(() => stack.app.server.activeReplies === 0, 'the in-flight registry to empty');
    const open = () => stack.emulator.requests.filter((request) => request.finishedAt === undefined && !request.aborted).map((request) => request.index);
    await eventually(() => open().length === 0, `no upstream request left open (open: ${open().join(', ')})`);
    // Every reply is over: move past the logs' retention so their expiry timers run and go.
    clock.advance(REPLY_LOG_TTL_MS);
    await eventually(() => excessOver(baseline).length === 0, 'active resources back to the baseline').catch(() => undefined);
    assert.deepEqual(excessOver(baseline), [], 'active resources back to the baseline');
  } finally {
    await stack.close();
  }
});
