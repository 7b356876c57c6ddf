import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ERROR_CODE_LIST, ERROR_CODES, REPLY_EVENT_TYPES } from '../src/index.ts';

// docs/protocol.md is where client authors read the protocol; it must not fall behind the code.
const protocolDoc = readFileSync(new URL('../../../docs/protocol.md', import.meta.url), 'utf8');

test('docs/protocol.md documents every error code with its status and user message', () => {
  for (const code of ERROR_CODE_LIST) {
    const spec = ERROR_CODES[code];
    const row = protocolDoc.split('\n').find((line) => line.startsWith(`| \`${code}\` |`));
    assert.ok(row, `docs/protocol.md lacks a row for ${code}`);
    assert.ok(row.includes(spec.origin === 'client' ? 'client-side' : String(spec.status)), `${code}: status`);
    assert.ok(row.includes(spec.userMessage), `${code}: user message`);
  }
});

test('docs/protocol.md documents every reply event type', () => {
  for (const type of REPLY_EVENT_TYPES) assert.match(protocolDoc, new RegExp(`\\| \`${type}\` \\|`), type);
});
