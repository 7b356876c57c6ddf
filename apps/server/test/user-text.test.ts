/**
 * Every text a user sends is cleaned the same way before anything else sees it (`text/user-text.ts`):
 * NFC, bidi embedding/override/isolate controls removed, stray control characters removed; text
 * with nothing visible left is refused. Pinned at the unit and through the real routes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parseErrorBody } from '@wxstream/protocol';
import { cleanUserText, isInvisible } from '../src/text/user-text.ts';
import { authed, getConversation, startOf } from './support/api-client.ts';
import { chatRequest, login, send } from './support/http-client.ts';
import { startStack, type TestStack } from './support/test-server.ts';

describe('cleanUserText and isInvisible', () => {
  test('text is put in NFC, so a decomposed é is the composed one', () => {
    assert.equal(cleanUserText('cafe\u0301'), 'caf\u00e9');
  });

  test('bidi embedding, override and isolate controls are removed; RLM/LRM marks stay', () => {
    assert.equal(cleanUserText('abc\u202Etxt.exe\u202C'), 'abctxt.exe');
    assert.equal(cleanUserText('\u2066a\u2067b\u2068c\u2069\u202A\u202B\u202D'), 'abc');
    assert.equal(cleanUserText('שלום\u200F!'), 'שלום\u200F!');
  });

  test('control characters other than tab and line breaks are removed', () => {
    assert.equal(cleanUserText('a\u0000b\u0007c\u001Bd\u007Fe\u0085f'), 'abcdef');
    assert.equal(cleanUserText('line\none\ttab\r\n'), 'line\none\ttab\r\n');
  });

  test('only white space, zero-width, format and filler characters is invisible; any letter, digit or emoji is not', () => {
    for (const text of ['', ' ', '\u200B', '\u200B\u200C\u200D\u2060\uFEFF', '\u202E', '\u3164\u115F', '\uFE0F', '\u00A0\u3000\n\t', '\u180E']) {
      assert.equal(isInvisible(text), true, JSON.stringify(text));
    }
    for (const text of ['a', '你', '1', '😀', '.', '\u200Bx']) assert.equal(isInvisible(text), false, JSON.stringify(text));
  });
});

describe('user text through the routes', () => {
  let stack: TestStack;
  let token: string;
  before(async () => {
    stack = await startStack({ scenario: { content: ['好。'] } });
    token = await login(stack.url, 'text-cleaner');
  });
  after(() => stack.close());

  test('a message of only zero-width and bidi control characters is refused 400 message_required and never reaches the model', async () => {
    for (const message of ['\u200B', '\u202E', '\u200B\u200D\u2060\u202E\uFEFF', ' \u3164 ', '\u0000\u0001']) {
      const answer = await send(stack.url, '/api/chat', chatRequest(token, { message }));
      assert.equal(answer.status, 400, JSON.stringify(message));
      assert.equal(parseErrorBody(answer.json())?.code, 'message_required');
    }
    assert.equal(stack.emulator.requests.length, 0);
  });

  test('a message is stored and sent upstream cleaned: NFC, no bidi override, no NUL', async () => {
    const answer = await send(stack.url, '/api/chat', chatRequest(token, { message: 'cafe\u0301 \u202Eabc\u0000' }));
    assert.equal(answer.status, 200, answer.text);
    const { conversationId } = startOf(answer.text);
    const stored = await getConversation(stack.url, token, conversationId);
    assert.equal(stored.messages[0]?.text, 'caf\u00e9 abc');
    assert.equal(stored.conversation.title, 'caf\u00e9 abc');
    assert.equal(stack.emulator.requests.at(-1)?.messages.at(-1)?.content, 'caf\u00e9 abc');
  });

  test('renaming to an invisible-only title is refused 400 invalid_request; a title with a bidi override is stored without it', async () => {
    const answer = await send(stack.url, '/api/chat', chatRequest(token, { message: 'rename me' }));
    const { conversationId } = startOf(answer.text);
    for (const title of ['\u200B\u200B', '\u202E', '\u2066\u2069 ']) {
      const refused = await send(stack.url, `/api/conversations/${conversationId}`, authed(token, 'PATCH', { title }));
      assert.equal(refused.status, 400, JSON.stringify(title));
      assert.equal(parseErrorBody(refused.json())?.code, 'invalid_request');
    }
    const renamed = await send(stack.url, `/api/conversations/${conversationId}`, authed(token, 'PATCH', { title: 'invoice\u202Egpj.exe' }));
    assert.equal(renamed.status, 200, renamed.text);
    assert.equal((renamed.json() as { title: string }).title, 'invoicegpj.exe');
  });
});
