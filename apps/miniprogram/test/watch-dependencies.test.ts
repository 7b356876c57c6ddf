/**
 * What `jest --watch` re-runs: the dependency extractor (test/jest/page-dependencies.cjs) must make a
 * page test depend on the page's files and its components, which simulate loads by path out of jest's
 * sight. Checked on the real root, as jest would call it.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { test } from '@jest/globals';
import { appDir, miniprogramRoot } from './support/paths.ts';

interface DependencyExtractor {
  extract(code: string, filePath: string, defaultExtract: (code: string, filePath: string) => Iterable<string>): Set<string>;
}

const extractor = createRequire(import.meta.url)('./jest/page-dependencies.cjs') as DependencyExtractor;
const none = (): string[] => [];

function dependenciesOf(file: string): string[] {
  return [...extractor.extract(readFileSync(file, 'utf8'), file, none)].sort();
}

function filesOf(base: string): string[] {
  return ['.json', '.ts', '.wxml', '.wxss'].map((ext) => join(miniprogramRoot, base + ext)).sort();
}

test('a test naming a page depends on its script, template, styles and configuration', () => {
  const deps = dependenciesOf(join(appDir, 'test', 'support', 'chat-page.ts'));
  assert.deepEqual(deps, filesOf('pages/chat/chat'));
});

test('a page template brings the components its configuration uses', () => {
  const config = JSON.parse(readFileSync(join(miniprogramRoot, 'pages', 'chat', 'chat.json'), 'utf8')) as { usingComponents?: Record<string, string> };
  const used = Object.values(config.usingComponents ?? {});
  assert.ok(used.length > 0, 'the chat page uses components');
  const deps = dependenciesOf(join(miniprogramRoot, 'pages', 'chat', 'chat.wxml'));
  for (const component of used) {
    for (const file of filesOf(component.replace(/^\//, ''))) assert.ok(deps.includes(file), `${file} is a dependency`);
  }
});

test('the vendor bundle depends on the packages it is built from, so client core changes re-run page tests', () => {
  const deps = dependenciesOf(join(miniprogramRoot, 'vendor', 'wxstream-client.js'));
  assert.deepEqual(deps, ['@wxstream/client', '@wxstream/protocol']);
});

test('strings that name nothing in the root add nothing', () => {
  const file = join(appDir, 'test', 'imaginary.test.ts');
  const deps = [...extractor.extract("const page = 'pages/nowhere/nowhere'; const other = 'components/none/none';", file, none)];
  assert.deepEqual(deps, []);
});
