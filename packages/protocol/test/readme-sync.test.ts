import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ERROR_CODE_LIST, ERROR_CODES, REPLY_EVENT_TYPES } from '../src/index.ts';

// The README is where client authors read the protocol; it must not fall behind the code.
const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');

test('the README documents every error code with its status and user message', () => {
  for (const code of ERROR_CODE_LIST) {
    const spec = ERROR_CODES[code];
    const row = readme.split('\n').find((line) => line.startsWith(`| \`${code}\` |`));
    assert.ok(row, `README lacks a row for ${code}`);
    assert.ok(row.includes(spec.origin === 'client' ? 'client-side' : String(spec.status)), `${code}: status`);
    assert.ok(row.includes(spec.userMessage), `${code}: user message`);
  }
});

test('the README documents every reply event type', () => {
  for (const type of REPLY_EVENT_TYPES) assert.match(readme, new RegExp(`\\| \`${type}\` \\|`), type);
});
