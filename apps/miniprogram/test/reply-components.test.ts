/**
 * The reply action bar and the follow-up chips on their own (components/reply-actions,
 * components/suggestion-chips), rendered by miniprogram-simulate with the properties a page passes:
 * what they show, and which event each tap raises — they hold no state and call no API.
 */
import assert from 'node:assert/strict';
import { test } from '@jest/globals';
import { afterThisTest } from './support/after-this-test.ts';
import { SimPage } from './support/sim-page.ts';

interface Raised {
  name: string;
  detail: unknown;
}

function render(path: string, properties: Record<string, unknown>): { view: SimPage; raised: Raised[] } {
  const view = new SimPage(path, { properties });
  afterThisTest(() => view.close());
  const raised: Raised[] = [];
  const instance = view.root.instance as unknown as { triggerEvent(name: string, detail?: unknown): void };
  const trigger = instance.triggerEvent.bind(instance);
  instance.triggerEvent = (name, detail) => {
    raised.push({ name, detail });
    trigger(name, detail);
  };
  return { view, raised };
}

const BAR = 'components/reply-actions/reply-actions';

test('the bar offers 复制, the ratings and 分享; 重新生成 only when the page allows it', () => {
  const plain = render(BAR, {});
  assert.equal(plain.view.exists('.copy'), true);
  assert.equal(plain.view.exists('.regenerate'), false);
  assert.equal(plain.view.exists('.versions'), false, 'no switcher for a single version');
  assert.equal(plain.view.attr('.share', 'openType'), 'share', 'only an open-type button may open the share sheet');
  const last = render(BAR, { canRegenerate: true });
  assert.equal(last.view.exists('.regenerate'), true);
});

test('each tap raises one event for the page', async () => {
  const { view, raised } = render(BAR, { canRegenerate: true, versionIndex: 2, versionCount: 3 });
  for (const selector of ['.copy', '.regenerate', '.rate-up', '.rate-down', '.version-prev', '.version-next']) await view.tap(selector);
  assert.deepEqual(raised, [
    { name: 'copy', detail: undefined },
    { name: 'regenerate', detail: undefined },
    { name: 'rate', detail: { rating: 'up' } },
    { name: 'rate', detail: { rating: 'down' } },
    { name: 'version', detail: { delta: -1 } },
    { name: 'version', detail: { delta: 1 } },
  ]);
});

test('the switcher shows where it is and goes no further than the first and last version', async () => {
  const first = render(BAR, { versionIndex: 1, versionCount: 2 });
  assert.equal(first.view.text('.version-label'), '1/2');
  await first.view.tap('.version-prev');
  assert.deepEqual(first.raised, []);
  assert.match(first.view.find('.version-prev')?.dom.className ?? '', /off/);
  const last = render(BAR, { versionIndex: 2, versionCount: 2 });
  await last.view.tap('.version-next');
  assert.deepEqual(last.raised, []);
});

test('while a reply streams, regenerating and switching do nothing; copying and rating still work', async () => {
  const { view, raised } = render(BAR, { canRegenerate: true, versionIndex: 2, versionCount: 3, disabled: true });
  for (const selector of ['.regenerate', '.version-prev', '.version-next', '.copy', '.rate-up']) await view.tap(selector);
  assert.deepEqual(raised.map((r) => r.name), ['copy', 'rate']);
});

test('the rating shown is marked pressed', () => {
  const { view } = render(BAR, { rating: 'down' });
  assert.match(view.find('.rate-down')?.dom.className ?? '', /pressed/);
  assert.doesNotMatch(view.find('.rate-up')?.dom.className ?? '', /pressed/);
});

const CHIPS = 'components/suggestion-chips/suggestion-chips';

test('chips show the suggestions and a tap raises pick with its text', async () => {
  const { view, raised } = render(CHIPS, { items: ['为什么？', '还有呢？'] });
  assert.deepEqual(view.findAll('.chip').map((chip) => chip.dom.textContent), ['为什么？', '还有呢？']);
  view.findAll('.chip')[1]?.dispatchEvent('tap');
  await view.advance(0);
  assert.deepEqual(raised, [{ name: 'pick', detail: { text: '还有呢？' } }]);
});

test('disabled chips raise nothing', async () => {
  const { view, raised } = render(CHIPS, { items: ['为什么？'], disabled: true });
  await view.tap('.chip');
  assert.deepEqual(raised, []);
});
