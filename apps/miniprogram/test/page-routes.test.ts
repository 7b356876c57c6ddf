import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from '@jest/globals';
import { chatPageUrl, conversationIdFromQuery, HISTORY_PAGE } from '../miniprogram/lib/page-routes.ts';
import { miniprogramRoot } from './support/paths.ts';

/** The query of a URL as WeChat may hand it to onLoad: values still escaped, or unescaped. */
function query(url: string, unescape: boolean): Record<string, string> {
  const search = url.split('?')[1] ?? '';
  const out: Record<string, string> = {};
  for (const pair of search.split('&').filter(Boolean)) {
    const [key = '', value = ''] = pair.split('=');
    out[key] = unescape ? decodeURIComponent(value) : value;
  }
  return out;
}

test('the chat page without an id opens a new conversation', () => {
  assert.equal(chatPageUrl(), '/pages/chat/chat');
  assert.equal(conversationIdFromQuery(query(chatPageUrl(), false)), undefined);
  assert.equal(conversationIdFromQuery({ conversationId: '' }), undefined);
  assert.equal(conversationIdFromQuery(undefined), undefined);
});

test('an id survives the trip through the URL whether onLoad gets it escaped or not', () => {
  for (const id of ['c-1', '0f6c7a52-0d2f-4b3e-9a51-1c5b7e0e2d11', 'a b/c?d=e&f', 'id+with+plus', '对话-1', '100%']) {
    for (const unescape of [false, true]) {
      assert.equal(conversationIdFromQuery(query(chatPageUrl(id), unescape)), id, `${id} (${unescape ? 'unescaped' : 'escaped'})`);
    }
  }
});

test('the page paths name pages that app.json declares', () => {
  const app = JSON.parse(readFileSync(join(miniprogramRoot, 'app.json'), 'utf8')) as { pages: string[] };
  assert.ok(app.pages.includes(chatPageUrl().slice(1)));
  assert.ok(app.pages.includes(HISTORY_PAGE.slice(1)));
  assert.equal(app.pages[0], chatPageUrl().slice(1), 'the chat page is the home page');
});
