/**
 * The model's side calls on their own: reading titles and follow-up questions out of an answer, the
 * deadline of follow-up questions on a manual clock, the content check, the usage they cost, and
 * the background titler's rules.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setImmediate as turn } from 'node:timers/promises';
import { WxstreamError, type UsageData } from '@wxstream/protocol';
import { ReplyRegistry } from '../src/chat/reply-registry.ts';
import { createLogger } from '../src/logger.ts';
import type { ConversationRecord, TitleSource } from '../src/storage/conversation-store.ts';
import { titleConversation } from '../src/side-calls/conversation-titler.ts';
import { suggestFollowUps, type FollowUpDeps } from '../src/side-calls/follow-up-suggestions.ts';
import { readFollowUps, readTitle, sideQuestionOf, sideTaskOf, titleRequest, followUpRequest } from '../src/side-calls/side-call-prompts.ts';
import type { ChatMessage, UpstreamCompletion, UpstreamModel } from '../src/upstream/upstream-model.ts';
import type { ContentCheckInput, ContentChecker } from '../src/wechat/content-checker.ts';
import { createManualClock } from './support/manual-clock.ts';

const log = createLogger({ level: 'silent' });

describe('reading side answers', () => {
  test('a title loses labels, quotes, closing punctuation and extra lines, and is cut to 30 characters', () => {
    assert.equal(readTitle('标题：「天空为什么是蓝色的」。\n解释：……'), '天空为什么是蓝色的');
    assert.equal(readTitle('\n  "Why the sky is blue"  \n'), 'Why the sky is blue');
    assert.equal(readTitle('Title: Rayleigh scattering!'), 'Rayleigh scattering');
    assert.equal(readTitle('长'.repeat(40)), '长'.repeat(30));
    assert.equal(readTitle(' \n 「」。 '), undefined);
    assert.equal(readTitle(''), undefined);
  });

  test('follow-up questions lose numbering and bullets; blank, repeated and over-long ones are dropped; three at most', () => {
    assert.deepEqual(readFollowUps('1. 为什么日落是红的？\n2、火星的天空呢？\n\n- 为什么日落是红的？\n* 「云为什么是白的？」\n(5) 第五个？'), [
      '为什么日落是红的？',
      '火星的天空呢？',
      '云为什么是白的？',
    ]);
    assert.deepEqual(readFollowUps(`${'长'.repeat(61)}\n短问题？`), ['短问题？']);
    assert.deepEqual(readFollowUps('   \n'), []);
  });

  test('side requests carry a tag the offline model recognises, and the question it answers from', () => {
    const title = titleRequest('天空为什么是蓝色的？', '因为瑞利散射。');
    assert.equal(sideTaskOf(title), 'title');
    assert.equal(sideTaskOf(followUpRequest('q', 'a')), 'follow-ups');
    assert.equal(sideTaskOf([{ role: 'system', content: '你是一个助手' }, { role: 'user', content: 'hi' }]), undefined);
    assert.equal(sideQuestionOf(String(title[1]?.content)), '天空为什么是蓝色的？');
    const long = titleRequest('问'.repeat(2000), '答'.repeat(5000));
    assert.ok(String(long[1]?.content).length < 3200, 'a long exchange is cut before it goes upstream');
  });
});

/** An upstream whose `complete` answers as the test says; streams are not used here. */
function fakeUpstream(complete: (request: { messages: readonly ChatMessage[]; signal: AbortSignal }) => Promise<UpstreamCompletion>) {
  const calls: (readonly ChatMessage[])[] = [];
  const upstream: UpstreamModel = {
    model: 'fake',
    open: () => Promise.reject(new Error('not used')),
    complete: (request) => {
      calls.push(request.messages);
      return complete(request);
    },
    failure: (error) => (error instanceof WxstreamError ? error : new WxstreamError('upstream_error', String(error))),
  };
  return { upstream, calls };
}

function checker(verdictOf: (input: ContentCheckInput) => 'pass' | 'risky' | 'fail' = () => 'pass'): ContentChecker & { checked: string[] } {
  const checked: string[] = [];
  return {
    checked,
    async checkText(input) {
      checked.push(input.text);
      const verdict = verdictOf(input);
      if (verdict === 'fail') throw new WxstreamError('wechat_unavailable', 'check failed');
      return { verdict };
    },
  };
}

function followUpDeps(upstream: UpstreamModel, contentChecker: ContentChecker, clock = createManualClock(0)) {
  const ledger: { entryId: string; usage: UsageData }[] = [];
  const quota: number[] = [];
  const tokens: UsageData[] = [];
  let nextId = 0;
  const deps: FollowUpDeps = {
    upstream,
    contentChecker,
    timeoutMs: 3000,
    clock,
    ids: () => `id${++nextId}`,
    store: { recordSideUsage: async (_userId, entryId, usage) => void ledger.push({ entryId, usage }) },
    quota: { record: async (_userId, count) => void quota.push(count) },
    metrics: { tokensUsed: (usage) => void tokens.push(usage) },
  };
  return { deps, clock, ledger, quota, tokens };
}

const request = (signal = new AbortController().signal) => ({ userId: 'u1', openid: 'o1', question: '天空为什么是蓝的？', answer: '瑞利散射。', signal, log });

describe('follow-up questions', () => {
  test('an answer becomes up to three checked questions, and its tokens are counted like a reply’s', async () => {
    const { upstream, calls } = fakeUpstream(async () => ({ text: '1. 日落为什么是红的？\n2. 云是什么颜色？\n3. 火星呢？', usage: { promptTokens: 40, completionTokens: 12 } }));
    const check = checker((input) => (input.text === '云是什么颜色？' ? 'risky' : 'pass'));
    const { deps, ledger, quota, tokens } = followUpDeps(upstream, check);
    assert.deepEqual(await suggestFollowUps(deps, request()), ['日落为什么是红的？', '火星呢？']);
    assert.equal(sideTaskOf(calls[0] ?? []), 'follow-ups');
    assert.deepEqual(check.checked, ['日落为什么是红的？', '云是什么颜色？', '火星呢？']);
    assert.deepEqual(ledger, [{ entryId: 'follow-ups:id1', usage: { promptTokens: 40, completionTokens: 12 } }]);
    assert.deepEqual(quota, [52]);
    assert.deepEqual(tokens, [{ promptTokens: 40, completionTokens: 12 }]);
  });

  test('without usage from the provider the tokens are estimated, never counted as zero', async () => {
    const { upstream } = fakeUpstream(async () => ({ text: '还有吗？' }));
    const { deps, ledger } = followUpDeps(upstream, checker());
    await suggestFollowUps(deps, request());
    assert.ok((ledger[0]?.usage.promptTokens ?? 0) > 0 && (ledger[0]?.usage.completionTokens ?? 0) > 0);
  });

  test('a model that does not answer yields none exactly at the deadline on the injected clock', async () => {
    let aborted = false;
    const { upstream } = fakeUpstream(
      (call) =>
        new Promise((_, reject) => {
          call.signal.addEventListener('abort', () => {
            aborted = true;
            reject(call.signal.reason);
          });
        }),
    );
    const { deps, clock, ledger } = followUpDeps(upstream, checker());
    let result: string[] | undefined;
    void suggestFollowUps(deps, request()).then((items) => (result = items));
    await turn();
    clock.advance(2999);
    await turn();
    assert.equal(result, undefined, 'still waiting 1 ms before the deadline');
    clock.advance(1);
    await turn();
    await turn();
    assert.deepEqual(result, []);
    assert.ok(aborted, 'the call is aborted at the deadline');
    assert.deepEqual(ledger, [], 'an unanswered call costs nothing on our side');
    assert.equal(clock.pendingTimers, 0);
  });

  test('a slow content check is cut by the same deadline, even one that ignores its signal', async () => {
    const { upstream } = fakeUpstream(async () => ({ text: '问题？' }));
    const stuck: ContentChecker = { checkText: () => new Promise(() => undefined) };
    const { deps, clock } = followUpDeps(upstream, stuck);
    let result: string[] | undefined;
    void suggestFollowUps(deps, request()).then((items) => (result = items));
    await turn();
    clock.advance(3000);
    await turn();
    await turn();
    assert.deepEqual(result, []);
  });

  test('the reply being stopped ends the wait at once; a failed call or a failed check gives none', async () => {
    const never = fakeUpstream((call) => new Promise((_, reject) => call.signal.addEventListener('abort', () => reject(call.signal.reason))));
    const stop = new AbortController();
    const pending = suggestFollowUps(followUpDeps(never.upstream, checker()).deps, request(stop.signal));
    stop.abort(new Error('stopped'));
    assert.deepEqual(await pending, []);

    const failing = fakeUpstream(async () => Promise.reject(new WxstreamError('upstream_unavailable', 'down')));
    assert.deepEqual(await suggestFollowUps(followUpDeps(failing.upstream, checker()).deps, request()), []);

    const answered = fakeUpstream(async () => ({ text: '问题？' }));
    assert.deepEqual(await suggestFollowUps(followUpDeps(answered.upstream, checker(() => 'fail')).deps, request()), []);
  });
});

describe('titles', () => {
  function titlerDeps(source: TitleSource, answer: string, verdict: 'pass' | 'risky' = 'pass') {
    const { upstream, calls } = fakeUpstream(async () => ({ text: answer, usage: { promptTokens: 20, completionTokens: 4 } }));
    const stored: string[] = [];
    const ledger: string[] = [];
    const conversation: ConversationRecord = { id: 'c1', userId: 'u1', title: '天空为什么是蓝的？', titleSource: source, createdAt: 0, updatedAt: 0 };
    const replies = new ReplyRegistry();
    const deps = {
      upstream,
      contentChecker: checker(() => verdict),
      replies,
      clock: createManualClock(0),
      ids: () => 'id',
      quota: { record: async () => undefined },
      metrics: { tokensUsed: () => undefined },
      store: {
        getConversation: async () => conversation,
        setGeneratedTitle: async (_userId: string, _id: string, title: string) => {
          stored.push(title);
          return { ...conversation, title, titleSource: 'model' as const };
        },
        recordSideUsage: async (_userId: string, entryId: string) => void ledger.push(entryId),
      },
    };
    return { deps, calls, stored, ledger, replies };
  }
  const titleRequestOf = { userId: 'u1', openid: 'o1', conversationId: 'c1', question: '天空为什么是蓝的？', answer: '瑞利散射。', log };

  test('an automatic title is replaced by the model’s, read and checked, while the work counts as in flight', async () => {
    const { deps, stored, ledger, replies } = titlerDeps('auto', '标题：天空的颜色。');
    const work = titleConversation(deps, titleRequestOf);
    assert.equal(replies.size, 1, 'a shutdown waits for it');
    await work;
    assert.deepEqual(stored, ['天空的颜色']);
    assert.deepEqual(ledger, ['title:id']);
    assert.equal(replies.size, 0);
  });

  test('a title the user chose or the model already gave is left alone without asking the model', async () => {
    for (const source of ['user', 'model'] as const) {
      const { deps, calls, stored } = titlerDeps(source, '新标题');
      await titleConversation(deps, titleRequestOf);
      assert.deepEqual([calls.length, stored], [0, []], source);
    }
  });

  test('a blocked or empty title keeps the current one', async () => {
    for (const [answer, verdict] of [['坏标题', 'risky'], ['「」', 'pass']] as const) {
      const { deps, stored } = titlerDeps('auto', answer, verdict);
      await titleConversation(deps, titleRequestOf);
      assert.deepEqual(stored, [], answer);
    }
  });

  test('a shutdown aborts a title still being made', async () => {
    const { deps, stored, replies } = titlerDeps('auto', 'x');
    deps.upstream.complete = (call) => new Promise((_, reject) => call.signal.addEventListener('abort', () => reject(call.signal.reason)));
    const work = titleConversation(deps, titleRequestOf);
    await turn();
    replies.interruptAll(new WxstreamError('server_shutdown', 'bye'));
    await work;
    assert.deepEqual(stored, []);
    assert.equal(replies.size, 0);
  });
});
