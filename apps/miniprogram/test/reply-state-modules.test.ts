/**
 * The pure modules behind the reply actions and long histories: the message ledger, older pages,
 * message paths, the feedback dialog, the list of own shares and the share page route.
 */
import assert from 'node:assert/strict';
import { test } from '@jest/globals';
import { askFeedbackComment, FEEDBACK_TOO_LONG, type FeedbackDialogDeps, type ModalResult } from '../miniprogram/lib/feedback-dialog.ts';
import { forgetShare, isOwnShare, MAX_OWN_SHARES, OWN_SHARES_KEY, rememberShare } from '../miniprogram/lib/own-shares.ts';
import { shareIdFromQuery, sharePageUrl, shareQuery } from '../miniprogram/lib/page-routes.ts';
import { readStoredMessage } from '../miniprogram/lib/conversation-shapes.ts';
import { messagePath, parseMessageAt, userMessage, emptyReplyRender } from '../miniprogram/pages/chat/chat-view-model.ts';
import { MessageLedger, type LedgerEntry } from '../miniprogram/pages/chat/message-ledger.ts';
import { OlderPages } from '../miniprogram/pages/chat/older-pages.ts';

function entry(at: LedgerEntry['at'], role: LedgerEntry['role'] = 'assistant'): LedgerEntry {
  return { at, role, serverId: '', text: '', rating: '' };
}

test('the ledger keeps reading order across prepended pages and replaced bubbles', () => {
  const ledger = new MessageLedger();
  ledger.append('m3', entry(0, 'user'));
  ledger.append('m4', entry(1));
  ledger.prepend([['m1', entry('older.p1[0]', 'user')], ['m2', entry('older.p1[1]')]]);
  assert.equal(ledger.first(), 'm1');
  assert.equal(ledger.previous('m3'), 'm2', 'a question on the older page is found across the boundary');
  ledger.replace('m4', 'm5', entry(1));
  assert.equal(ledger.get('m4'), undefined);
  assert.equal(ledger.previous('m5'), 'm3');
  ledger.update('m5', { serverId: 'a-1' });
  assert.equal(ledger.get('m5')?.serverId, 'a-1');
  ledger.clear();
  assert.equal(ledger.first(), undefined);
});

test('older pages hand out their cursor once per load and stop at the first message', () => {
  const older = new OlderPages();
  older.reset('cursor-1');
  assert.equal(older.begin(), 'cursor-1');
  assert.equal(older.begin(), undefined, 'a load is under way');
  older.failed();
  assert.equal(older.begin(), 'cursor-1', 'a failed load can be tried again');
  const renders = new Map([[1, emptyReplyRender()]]);
  const { key, data } = older.added([userMessage('m1', 'a')], renders, null, 'm9');
  assert.equal(key, 'p1');
  assert.deepEqual(Object.keys(data).sort(), ['hasOlder', 'loadingOlder', 'older.p1', 'olderError', 'olderKeys', 'scrollAnchor']);
  assert.equal(data.scrollAnchor, 'm9');
  assert.ok(older.renders.has('older.p1[1]'));
  assert.equal(older.hasMore, false);
  assert.equal(older.begin(), undefined);
});

test('message paths round-trip through the template', () => {
  assert.equal(messagePath(3), 'messages[3]');
  assert.equal(parseMessageAt('messages[3]'), 3);
  assert.equal(parseMessageAt(OlderPages.path('p2', 5)), 'older.p2[5]');
  for (const bad of [undefined, 3, 'messages', 'older.x[1]', 'messages[1].blocks', '__proto__']) assert.equal(parseMessageAt(bad), undefined);
});

test('malformed feedback or versions are dropped, the message kept; a single version is no switcher', () => {
  const base = { id: 'a-1', role: 'assistant', text: 'x', status: 'complete', createdAt: 'c', updatedAt: 'u' };
  assert.equal(readStoredMessage({ ...base, feedback: { rating: 'meh' } })?.feedback, undefined);
  assert.deepEqual(readStoredMessage({ ...base, feedback: { rating: 'up', comment: 'ok', updatedAt: 'u' } })?.feedback, { rating: 'up', comment: 'ok', updatedAt: 'u' });
  const item = { messageId: 'a-1', userMessageId: 'q-1', createdAt: 'c', status: 'complete' };
  assert.equal(readStoredMessage({ ...base, versions: { current: 0, items: [item] } })?.versions, undefined);
  assert.equal(readStoredMessage({ ...base, versions: { current: 2, items: [item, item] } })?.versions, undefined, 'current out of range');
  assert.equal(readStoredMessage({ ...base, versions: { current: 1, items: [item, { ...item, messageId: 'a-2' }] } })?.versions?.current, 1);
});

function dialog(answers: (ModalResult | undefined)[]): { deps: FeedbackDialogDeps; shown: string[]; notices: string[] } {
  const shown: string[] = [];
  const notices: string[] = [];
  const deps: FeedbackDialogDeps = {
    showModal: (options) => {
      shown.push(options.content);
      const answer = answers.shift();
      queueMicrotask(() => (answer ? options.success(answer) : options.fail()));
    },
    notify: (message) => notices.push(message),
  };
  return { deps, shown, notices };
}

test('the feedback comment is optional, trimmed, and never cut', async () => {
  assert.equal(await askFeedbackComment(dialog([{ confirm: false, content: 'x' }]).deps), undefined, '跳过');
  assert.equal(await askFeedbackComment(dialog([{ confirm: true, content: '   ' }]).deps), undefined, 'empty');
  assert.equal(await askFeedbackComment(dialog([undefined]).deps), undefined, 'the modal failed');
  assert.equal(await askFeedbackComment(dialog([{ confirm: true, content: ' 太长了 ' }]).deps), '太长了');
  const long = '字'.repeat(501);
  const asked = dialog([{ confirm: true, content: long }, { confirm: true, content: '字'.repeat(500) }]);
  assert.equal(await askFeedbackComment(asked.deps), '字'.repeat(500), '500 code points is allowed');
  assert.deepEqual(asked.shown, ['', long]);
  assert.deepEqual(asked.notices, [FEEDBACK_TOO_LONG]);
});

test('own shares are remembered newest first, once each, at most a hundred', () => {
  const storage = new Map<string, unknown>();
  const wx = { getStorageSync: (key: string) => storage.get(key) ?? '', setStorageSync: (key: string, value: unknown) => void storage.set(key, value) };
  rememberShare(wx, 'a');
  rememberShare(wx, 'b');
  rememberShare(wx, 'a');
  assert.deepEqual(storage.get(OWN_SHARES_KEY), ['a', 'b']);
  assert.equal(isOwnShare(wx, 'b'), true);
  forgetShare(wx, 'b');
  assert.equal(isOwnShare(wx, 'b'), false);
  for (let i = 0; i < MAX_OWN_SHARES + 10; i++) rememberShare(wx, `s${i}`);
  assert.equal((storage.get(OWN_SHARES_KEY) as string[]).length, MAX_OWN_SHARES);
  const broken = { getStorageSync: () => { throw new Error('storage full'); }, setStorageSync: () => { throw new Error('storage full'); } };
  assert.equal(isOwnShare(broken, 'a'), false);
  rememberShare(broken, 'a');
});

test('the share page URL carries the share id there and back', () => {
  assert.equal(sharePageUrl('Ab_-12'), '/pages/share/share?id=Ab_-12');
  assert.equal(shareQuery('a b'), 'id=a%20b');
  assert.equal(shareIdFromQuery({ id: 'Ab_-12' }), 'Ab_-12');
  assert.equal(shareIdFromQuery({}), undefined);
});
