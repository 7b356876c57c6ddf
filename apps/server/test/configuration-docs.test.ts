import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Env } from '../src/config.ts';
import { loadServerConfig } from '../src/server-config.ts';

// docs/configuration.md is the one reference an operator reads; it must name exactly the variables the code reads.
// What the code reads is observed, not listed by hand: `loadServerConfig` runs over environments that take every
// branch (voice providers, WeChat, production, a fallback model) and every name it looks up is recorded.
const BRANCHES: readonly Env[] = [
  {},
  { NODE_ENV: 'production', TOKEN_SECRET: 'x'.repeat(40) },
  { OPENAI_API_KEY: 'sk-test', OPENAI_FALLBACK_BASE_URL: 'http://127.0.0.1:1/v1', OPENAI_FALLBACK_API_KEY: 'k' },
  { WECHAT_APPID: 'wx0000000000000000', WECHAT_SECRET: 'secret' },
  { VOICE_PROVIDER: 'openai' },
  { STT_PROVIDER: 'openai' },
  { VOICE_PROVIDER: 'youdao', YOUDAO_APP_KEY: 'key', YOUDAO_APP_SECRET: 'secret' },
  { REDIS_URL: 'redis://127.0.0.1:6379', DATABASE_URL: 'postgres://u@127.0.0.1:5432/db' },
];

function variablesTheCodeReads(): Set<string> {
  const names = new Set<string>();
  for (const branch of BRANCHES) {
    const recording = new Proxy(branch, {
      get(target, name) {
        if (typeof name === 'string') names.add(name);
        return Reflect.get(target, name);
      },
    });
    try {
      loadServerConfig(recording);
    } catch {
      // An invalid combination still reads its variables; only the names matter here.
    }
  }
  return names;
}

function variablesTheDocsList(): Set<string> {
  const doc = readFileSync(new URL('../../../docs/configuration.md', import.meta.url), 'utf8');
  const names = new Set<string>();
  for (const line of doc.split('\n')) {
    const firstCell = /^\| ([^|]+) \|/.exec(line)?.[1];
    if (firstCell === undefined) continue;
    for (const match of firstCell.matchAll(/`([A-Z][A-Z0-9_]*)`/g)) names.add(match[1]!);
  }
  return names;
}

test('docs/configuration.md has a row for every variable the server reads', () => {
  const documented = variablesTheDocsList();
  const missing = [...variablesTheCodeReads()].filter((name) => !documented.has(name)).sort();
  assert.deepEqual(missing, [], `add these to docs/configuration.md: ${missing.join(', ')}`);
});

test('docs/configuration.md lists no variable the server no longer reads', () => {
  const read = variablesTheCodeReads();
  const stale = [...variablesTheDocsList()].filter((name) => !read.has(name)).sort();
  assert.deepEqual(stale, [], `remove these from docs/configuration.md or read them: ${stale.join(', ')}`);
});

test('the recorder sees the variables the loaders read', () => {
  // Guards the test itself: a loader that copied the environment before reading would hide every name.
  const read = variablesTheCodeReads();
  for (const name of ['PORT', 'REDIS_URL', 'VOICE_PROVIDER', 'WECHAT_APPID', 'UPSTREAM_MAX_RETRIES']) assert.ok(read.has(name), name);
});
